// The Linux maintainer scripts, put together from resources/linux/scripts/: the service's parts
// (group, installing user, enabling and stopping causeway-helper.service, purging its state) are
// one source, shared by the desktop app's packages (electron-builder, `npm run dist`) and the
// causeway packages (nfpm, `npm run dist:linux`); the desktop app adds its own parts in front.
// Each script is what deb (postinst/prerm/postrm) and rpm (%post/%preun/%postun) both run.
//
// `node scripts/linux-package-scripts.mjs` writes them to dist/package-scripts/<kind>/.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const partsDir = 'resources/linux/scripts';
export const outputDir = 'dist/package-scripts';

/** Which parts make up each script, in order, per kind of package. */
export const layout = {
  desktop: {
    'after-install': ['desktop-after-install', 'service-after-install'],
    'before-remove': ['service-before-remove'],
    'after-remove': ['desktop-after-remove', 'service-after-remove'],
  },
  service: {
    'after-install': ['service-after-install'],
    'before-remove': ['service-before-remove'],
    'after-remove': ['service-after-remove'],
  },
};

/** The text of one script. */
export function packageScript(kind, name) {
  const parts = layout[kind]?.[name];
  if (!parts) throw new Error(`no ${name} script for ${kind} packages`);
  const body = parts.map((p) => readFileSync(join(repo, partsDir, `${p}.sh`), 'utf8').trimEnd()).join('\n\n');
  return [
    '#!/bin/sh',
    `# ${kind} package ${name} script, put together by scripts/linux-package-scripts.mjs from`,
    `# ${parts.map((p) => `${partsDir}/${p}.sh`).join(', ')}.`,
    // A failed group creation must fail the installation; removal goes on whatever happens.
    ...(name === 'after-install' ? ['set -e'] : []),
    '',
    body,
    'exit 0',
    '',
  ].join('\n');
}

/** Writes every script of `kind` under dist/package-scripts/<kind>/ and returns their paths. */
export function writePackageScripts(kind) {
  const dir = join(repo, outputDir, kind);
  mkdirSync(dir, { recursive: true });
  const paths = {};
  for (const name of Object.keys(layout[kind])) {
    paths[name] = join(dir, `${name}.sh`);
    writeFileSync(paths[name], packageScript(kind, name));
    chmodSync(paths[name], 0o755);
  }
  return paths;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const kind of Object.keys(layout)) writePackageScripts(kind);
}
