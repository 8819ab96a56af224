// `npm run dist:linux`: the causeway packages for Linux, built here with nothing but the package
// registries — the helper (cargo), the CLI bundle (esbuild), the service scripts
// (scripts/linux-package-scripts.mjs), nfpm (scripts/install-packaging-tools.sh) — into release/:
//
//   causeway_<version>_<arch>.deb        Debian 12+, Ubuntu 22.04+
//   causeway-<version>-1.<arch>.rpm      Fedora, RHEL, openSUSE
//   causeway-<version>-linux-<arch>.tar.gz  any other distribution: the same files and an install.sh
//
// The packages hold exactly the files resources/linux/nfpm.yaml lists; the tarball is made from
// the same list, so the three never differ.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { writePackageScripts } from './linux-package-scripts.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const releaseDir = join(repo, 'release');
const nfpmConfig = 'resources/linux/nfpm.yaml';
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
/** Debian's names for the architectures Node reports (nfpm takes the same, and maps them for rpm). */
const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
if (!arch) throw new Error(`dist:linux: no package architecture for ${process.arch}`);

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: repo, stdio: ['ignore', options.capture ? 'pipe' : 'inherit', 'inherit'], encoding: 'utf8', ...options });
  if (r.error) throw new Error(`dist:linux: could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`dist:linux: ${cmd} ${args.join(' ')} failed with status ${r.status}`);
  return r.stdout?.trim() ?? '';
}

// --prebuilt: the caller has just built both (scripts/test.mjs does before its suites).
if (!process.argv.includes('--prebuilt')) {
  run('cargo', ['build', '--release', '--manifest-path', 'native/Cargo.toml', '-p', 'causeway-helper']);
  run(process.execPath, ['scripts/build.mjs']);
}
writePackageScripts('service');
const nfpm = run('bash', ['scripts/install-packaging-tools.sh'], { capture: true });

mkdirSync(releaseDir, { recursive: true });
const env = { ...process.env, CAUSEWAY_VERSION: version, CAUSEWAY_ARCH: arch };
for (const packager of ['deb', 'rpm']) {
  run(nfpm, ['package', '--config', nfpmConfig, '--packager', packager, '--target', releaseDir], { env });
}

// The tarball: the packages' files under their installed paths, and install.sh / uninstall.sh
// that copy them and run the packages' own maintainer scripts.
const { contents } = parse(readFileSync(join(repo, nfpmConfig), 'utf8'), { version: '1.1' }) // nfpm reads 0755 as octal, as YAML 1.1 does;
const name = `causeway-${version}-linux-${arch === 'amd64' ? 'x86_64' : arch}`;
const stage = join(repo, 'dist', 'tarball');
rmSync(stage, { recursive: true, force: true });
const top = join(stage, name);
for (const { src, dst, file_info: info } of contents) {
  mkdirSync(dirname(join(top, 'files', dst)), { recursive: true });
  copyFileSync(join(repo, src), join(top, 'files', dst));
  chmodSync(join(top, 'files', dst), info.mode);
}
const scripts = writePackageScripts('service');
for (const [script, path] of Object.entries(scripts)) copyFileSync(path, join(top, `${script}.sh`));
const installed = contents.map((c) => c.dst);
writeFileSync(
  join(top, 'install.sh'),
  `#!/bin/sh
# Installs Causeway ${version} from this folder (as root): the files under files/ to the same
# paths in /, then what the deb and rpm packages do after installing (group, service).
set -e
cd "$(dirname "$0")"
${installed.map((p) => `install -D -m ${(contents.find((c) => c.dst === p).file_info.mode).toString(8).padStart(4, '0')} "files${p}" "${p}"`).join('\n')}
sh ./after-install.sh configure
`,
  { mode: 0o755 },
);
writeFileSync(
  join(top, 'uninstall.sh'),
  `#!/bin/sh
# Removes what install.sh installed (as root), as the packages do on purge: the service is
# stopped first (its sessions end and their routes, DNS and firewall rules go), then the files
# and the service's state. The causeway group is kept.
cd "$(dirname "$0")"
sh ./before-remove.sh remove
rm -f ${installed.map((p) => `"${p}"`).join(' ')}
rmdir /usr/lib/causeway/cli /usr/lib/causeway 2>/dev/null
sh ./after-remove.sh purge
`,
  { mode: 0o755 },
);
run('tar', ['--owner=0', '--group=0', '-czf', join(releaseDir, `${name}.tar.gz`), '-C', stage, name]);
console.log(`dist:linux: packages in ${releaseDir}`);
