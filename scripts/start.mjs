// `npm start` (after `npm run build`): runs the desktop app on Electron's runtime, fetching the
// runtime first when `npm install` did not (ELECTRON_SKIP_BINARY_DOWNLOAD, no network then).
// When the runtime is missing and cannot be fetched, one paragraph says what is missing and how
// to get it, and the exit status is 1; every other failure keeps its own message and status.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// Electron's package folder (its package.json only: the module itself would try to download).
const electronDir = dirname(require.resolve('electron/package.json'));
const { version } = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8'));

/** The runtime's executable as Electron's own launcher (node_modules/electron/index.js) finds it, or null. */
function runtimePath() {
  const pathFile = join(electronDir, 'path.txt');
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8') : null;
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) {
    const path = join(process.env.ELECTRON_OVERRIDE_DIST_PATH, name ?? 'electron');
    return existsSync(path) ? path : null;
  }
  const path = name && join(electronDir, 'dist', name);
  return path && existsSync(path) ? path : null;
}

/** Failures of the download itself (no network, refused, DNS, an HTTP error from the mirror). */
const unreachable = /fetch failed|Response code \d{3}|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH/;

function explainMissingRuntime(reason) {
  const zip = `electron-v${version}-${process.platform}-${process.arch}.zip`;
  console.error(
    [
      `causeway: the desktop app needs Electron's runtime (Electron ${version} for ${process.platform}-${process.arch}),`,
      `which is not installed in ${electronDir} and could not be downloaded (${reason}).`,
      'To get it: run `npm start` again where the network reaches Electron\'s releases; or set',
      'ELECTRON_MIRROR to a mirror of them (e.g. ELECTRON_MIRROR=https://mirror.example/electron/);',
      `or unpack ${zip} from another machine into a folder and set ELECTRON_OVERRIDE_DIST_PATH to it.`,
      'The `causeway` command (npx causeway …) needs no Electron and works without it.',
    ].join('\n'),
  );
}

let electron = runtimePath();
if (!electron) {
  console.log(`Fetching Electron ${version}'s runtime…`);
  const install = spawnSync(process.execPath, [join(electronDir, 'install.js')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${install.stdout ?? ''}${install.stderr ?? ''}`;
  if (install.status !== 0 || !(electron = runtimePath())) {
    const reason = unreachable.exec(output);
    if (reason) {
      explainMissingRuntime(reason[0]);
      process.exit(1);
    }
    process.stderr.write(output);
    process.exit(install.status || 1);
  }
}

const child = spawn(electron, ['.', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
