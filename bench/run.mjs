// `npm run bench`: installs the bench's own tools (bench/install-bench-deps.sh: wg, perf,
// wireguard-go), builds the release helper, bundles bench/bench.ts with esbuild (the lab is
// TypeScript) and runs it as root. Not part of `npm test`.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
if (process.getuid?.() !== 0) {
  console.error('bench: needs root (network namespaces and TUN devices)');
  process.exit(1);
}
const deps = spawnSync('bash', [join(root, 'bench/install-bench-deps.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (deps.status !== 0) process.exit(deps.status ?? 1);
const wireguardGo = deps.stdout.trim().split('\n').at(-1);

const cargo = spawnSync('cargo', ['build', '--release', '-p', 'causeway-helper', '--manifest-path', join(root, 'native/Cargo.toml')], {
  stdio: 'inherit',
});
if (cargo.status !== 0) process.exit(cargo.status ?? 1);

/**
 * The lab finds its scripts and the protocol vectors next to its own modules: each module's
 * import.meta.url/dirname keep naming the source file, not the bundle.
 */
function modulePaths() {
  return {
    name: 'module-paths',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async ({ path }) => ({
        loader: 'ts',
        contents: (await readFile(path, 'utf8'))
          .replaceAll('import.meta.dirname', JSON.stringify(dirname(path)))
          .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href)),
      }));
    },
  };
}

const outfile = join(root, 'dist/bench/bench.mjs');
await build({
  entryPoints: [join(root, 'bench/bench.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
  plugins: [modulePaths()],
});
const run = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: {
    ...process.env,
    CAUSEWAY_HELPER_BIN: process.env.CAUSEWAY_HELPER_BIN ?? join(root, 'native/target/release/causeway-helper'),
    CAUSEWAY_WIREGUARD_GO: wireguardGo,
  },
});
process.exit(run.status ?? 1);
