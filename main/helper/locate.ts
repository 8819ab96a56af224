// Finds the causeway-helper binary. Order:
//   1. $CAUSEWAY_HELPER (developers, tests, distributions with their own layout)
//   2. next to the packaged app: <resourcesPath>/bin/causeway-helper (electron-builder extraResources)
//      and the system install location /usr/lib/causeway/causeway-helper
//   3. the repository build: native/target/release/causeway-helper
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface LocateOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Electron's process.resourcesPath when packaged; null under plain Node. */
  resourcesPath?: string | null;
  /** Repository root; defaults to the one this file lives in. */
  repoRoot?: string;
}

/**
 * The repository this code runs from: the nearest folder above it holding native/Cargo.toml.
 * (main/helper/locate.ts in the source tree, dist/cli/causeway.cjs or dist/main/electron/main.cjs
 * when bundled: the depth differs.) __filename exists in the CommonJS bundles and under vitest.
 */
export function findRepoRoot(from = dirname(__filename)): string | null {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'native', 'Cargo.toml'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The candidate paths in search order (exported for the error message and tests). */
export function helperCandidates(options: LocateOptions = {}): string[] {
  const env = options.env ?? process.env;
  const exe = (options.platform ?? process.platform) === 'win32' ? 'causeway-helper.exe' : 'causeway-helper';
  const candidates: string[] = [];
  if (env.CAUSEWAY_HELPER) candidates.push(env.CAUSEWAY_HELPER);
  if (options.resourcesPath) candidates.push(join(options.resourcesPath, 'bin', exe));
  if ((options.platform ?? process.platform) === 'linux') candidates.push('/usr/lib/causeway/causeway-helper');
  const repoRoot = options.repoRoot ?? findRepoRoot();
  if (repoRoot) candidates.push(join(repoRoot, 'native', 'target', 'release', exe));
  return candidates;
}

/** The helper's path, or an error naming every place that was tried. */
export function locateHelper(options: LocateOptions = {}): string {
  const env = options.env ?? process.env;
  if (env.CAUSEWAY_HELPER && !isExecutableFile(env.CAUSEWAY_HELPER)) {
    // An explicit choice that does not work must not silently fall back to another binary.
    throw new Error(`CAUSEWAY_HELPER=${env.CAUSEWAY_HELPER} is not an executable file`);
  }
  const candidates = helperCandidates(options);
  const found = candidates.find(isExecutableFile);
  if (found) return found;
  throw new Error(
    `causeway-helper was not found (looked in ${candidates.join(', ')}); build it with \`npm run build:native\` or set CAUSEWAY_HELPER`,
  );
}
