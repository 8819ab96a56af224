// What the packaging tests test: the packages `npm run dist:linux` wrote to release/, and the
// cached Debian 12 root (scripts/debian-root.sh builds it on first use).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '../../..');
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };

/** The file name of this version's package in release/; throws if it was not built. */
export function releasePackage(kind: 'deb' | 'rpm' | 'tarball'): string {
  const name = { deb: `causeway_${version}_amd64.deb`, rpm: `causeway-${version}-1.x86_64.rpm`, tarball: `causeway-${version}-linux-x86_64.tar.gz` }[kind];
  if (!existsSync(join(repo, 'release', name))) throw new Error(`release/${name} is missing: run npm run dist:linux first`);
  return name;
}

export function releasePath(kind: 'deb' | 'rpm' | 'tarball'): string {
  return join(repo, 'release', releasePackage(kind));
}

/** The Debian 12 root file system, built once and cached outside the repository. */
export function debianRoot(): string {
  const out = execFileSync('bash', [join(repo, 'scripts', 'debian-root.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}
