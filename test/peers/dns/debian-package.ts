// Debian packages the DNS tests run without installing them on the machine (their maintainer
// scripts would take over the host's resolver configuration): downloaded with apt-get and
// unpacked once into .cache/<package>/root.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../lab/index.js';

const repoRoot = join(import.meta.dirname, '../../..');

/** The unpacked root of `pkg` (at `version` when given); `probe` is a file that proves it is there. */
export async function unpackedDebianPackage(pkg: string, probe: string, version?: string): Promise<string> {
  const dir = join(repoRoot, '.cache', pkg);
  const root = join(dir, 'root');
  if (existsSync(join(root, probe))) return root;
  mkdirSync(dir, { recursive: true });
  const spec = version ? `${pkg}=${version}` : pkg;
  const download = () => run('sh', ['-c', `cd "${dir}" && apt-get download "${spec}"`], { timeoutMs: 120_000 });
  // Stale package lists (a fresh machine, or a point release since) are refreshed once.
  await download().catch(async () => {
    await run('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
    await download();
  });
  const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${spec} produced no package`);
  await run('dpkg-deb', ['-x', join(dir, deb), root]);
  return root;
}
