// The .rpm from `npm run dist:linux`, checked with rpm's own tools: its digests, what it
// declares, its payload (exactly resources/linux/nfpm.yaml's files, with their modes), its
// scriptlets (the service scripts the .deb runs too), and an install into a scratch root with
// `rpm --root` (files only: the scratch root has no shell or systemd to run scriptlets with;
// the .deb's install on a booted Debian runs the same scripts for real).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packageScript } from '../../scripts/linux-package-scripts.mjs';
import { releasePath } from './support/artifacts.js';

const repo = join(import.meta.dirname, '../..');
const rpmFile = releasePath('rpm');
const { contents } = parse(readFileSync(join(repo, 'resources/linux/nfpm.yaml'), 'utf8'), { version: '1.1' }) as {
  contents: { src: string; dst: string; file_info: { mode: number } }[];
};
const scratch = mkdtempSync(join(tmpdir(), 'causeway-rpmroot-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function rpm(...args: string[]): string {
  const r = spawnSync('rpm', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rpm ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

describe('the .rpm', () => {
  it('has intact digests (it is not signed; rpm -K says so)', () => {
    expect(rpm('--checksig', rpmFile)).toMatch(/digests OK$/m);
  });

  it('declares what it is and needs: the distribution\'s node, nftables, systemd', () => {
    expect(rpm('-qp', '--qf', '%{NAME} %{VERSION} %{ARCH} %{LICENSE}\\n', rpmFile).trim()).toMatch(/^causeway \d+\.\d+\.\d+ x86_64 GPL-2\.0-only$/);
    const requires = rpm('-qpR', rpmFile).split('\n').map((l) => l.trim());
    expect(requires).toEqual(expect.arrayContaining(['/usr/bin/node', 'nftables', 'systemd']));
  });

  it('holds exactly the files nfpm.yaml lists, with their modes', () => {
    const listed = rpm('-qp', '--qf', '[%{FILEMODES:perms} %{FILENAMES}\\n]', rpmFile).trim().split('\n').sort();
    expect(listed).toHaveLength(contents.length);
    const modeOf = (line: string) => line.split(' ')[0];
    for (const c of contents) {
      const line = listed.find((l) => l.endsWith(` ${c.dst}`));
      expect(line, c.dst).toBeDefined();
      expect(modeOf(line!)).toBe(c.file_info.mode === 0o755 ? '-rwxr-xr-x' : '-rw-r--r--');
    }
  });

  it('runs the service scripts as %post, %preun and %postun', () => {
    const scripts = rpm('-qp', '--scripts', rpmFile);
    for (const [section, name] of [
      ['postinstall', 'after-install'],
      ['preuninstall', 'before-remove'],
      ['postuninstall', 'after-remove'],
    ] as const) {
      const body = new RegExp(`^${section} scriptlet \\(using (\\S+)\\):\\n([\\s\\S]*?)(?=^\\w+ scriptlet|$(?![\\s\\S]))`, 'm').exec(scripts);
      expect(body, `${section} in\n${scripts}`).not.toBeNull();
      expect(body![1]).toBe('/bin/sh');
      expect(body![2]!.trim()).toBe(packageScript('service', name).trim());
    }
  });

  it('installs into a scratch root with rpm --root, verifies, and erases cleanly', () => {
    rpm('--root', scratch, '--initdb');
    rpm('--root', scratch, '--install', '--nodeps', '--noscripts', rpmFile);
    expect(rpm('--root', scratch, '-qa').trim()).toMatch(/^causeway-\d/);
    // Files only: the scratch root has none of the dependencies, so rpm is told not to check them.
    expect(rpm('--root', scratch, '--verify', '--nodeps', 'causeway')).toBe('');
    for (const c of contents) {
      const st = statSync(join(scratch, c.dst));
      expect(st.mode & 0o7777, c.dst).toBe(c.file_info.mode);
      expect(readFileSync(join(scratch, c.dst)).equals(readFileSync(join(repo, c.src))), c.dst).toBe(true);
    }
    rpm('--root', scratch, '--erase', '--noscripts', 'causeway');
    expect(rpm('--root', scratch, '-qa').trim()).toBe('');
    for (const c of contents) expect(() => statSync(join(scratch, c.dst)), c.dst).toThrow();
  });
});
