// Bundles main's entry points for Node/Electron with esbuild and the renderer with Vite.
// Output goes to dist/; nothing here downloads anything.
import { build } from 'esbuild';

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

await build({ ...common, entryPoints: ['main/cli/index.ts'], outfile: 'dist/cli/causeway.cjs' });
