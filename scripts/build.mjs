// Bundles main's entry points for Node/Electron with esbuild and the renderer with Vite.
// Output goes to dist/; nothing here downloads anything.
import { build } from 'esbuild';
import { build as viteBuild } from 'vite';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // Electron is provided by the runtime; keytar-like natives are never bundled.
  external: ['electron'],
};

// The CLI runs on the Node.js a distribution ships (the causeway packages depend on it; Debian 12
// has 18), or on the desktop app's Electron. It says so before anything else runs on an older one.
const cliNeeds = 18;
await build({
  ...common,
  target: `node${cliNeeds}`,
  banner: {
    js: `'use strict';\nif (Number(process.versions.node.split('.')[0]) < ${cliNeeds}) { process.stderr.write('causeway needs Node.js ${cliNeeds} or later; this is Node.js ' + process.versions.node + '\\n'); process.exit(1); }`,
  },
  entryPoints: ['main/cli/index.ts'],
  outfile: 'dist/cli/causeway.cjs',
});

// The desktop app: Electron main (Node 22 inside Electron 45) and the sandboxed preload, which can
// load no module but Electron's own, so the bridge code is bundled into it.
await build({ ...common, target: 'node22', entryPoints: ['main/electron/main.ts'], outfile: 'dist/main/electron/main.cjs' });
await build({ ...common, target: 'chrome130', entryPoints: ['main/electron/preload.ts'], outfile: 'dist/main/electron/preload.cjs' });
await viteBuild({ configFile: 'renderer/vite.config.ts', logLevel: 'warn' });
