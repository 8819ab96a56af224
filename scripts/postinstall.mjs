// Runs after `npm install`: builds the Rust helper (release) and the TypeScript bundles,
// so `npm start` and the `causeway` bin work straight away. Set CAUSEWAY_SKIP_BUILD=1 to
// install dependencies only (used when adding a package mid-development).
import { spawnSync } from 'node:child_process';

if (process.env.CAUSEWAY_SKIP_BUILD === '1') process.exit(0);

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.error?.code === 'ENOENT') {
    console.error(`causeway: '${cmd}' is not installed. Install the Rust toolchain (https://rustup.rs) and run npm install again.`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run('cargo', ['build', '--release', '--manifest-path', 'native/Cargo.toml']);
run(process.execPath, ['scripts/build.mjs']);
