// The desktop app's deb/rpm maintainer scripts (scripts/linux-package-scripts.mjs), run for real against a throwaway root: a private mount
// namespace with overlays on /etc, /usr, /opt and /var (writes land in a temp dir and vanish
// with the namespace) and a fresh /run. The package payload is laid out as fpm would install
// it, users are created inside the overlay, and the real groupadd/usermod/systemd-sysusers/
// update-alternatives do their work. systemd is not PID 1 on the test machines, so
// `systemctl` alone is a recording stand-in; `systemd-analyze verify` checks the unit for real.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { packageScript } from '../../scripts/linux-package-scripts.mjs';

const root = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const config = parse(read('electron-builder.yml')) as {
  productName: string;
  linux: { executableName: string };
  deb: { fpm: string[] };
};
const APP = `/opt/${config.productName}/${config.linux.executableName}`;

/** What electron-builder does to afterInstall/afterRemove scripts (FpmTarget writeConfigFile). */
function fillMacros(text: string): string {
  const macros: Record<string, string> = { executable: config.linux.executableName, sanitizedProductName: config.productName };
  return text.replace(/\$\{([a-zA-Z]+)\}/g, (_, name: string) => {
    const value = macros[name];
    if (value === undefined) throw new Error(`Macro ${name} is not defined`);
    return value;
  });
}

const work = mkdtempSync(join(tmpdir(), 'causeway-pkg-'));
const scripts: Record<string, string> = {};
for (const name of ['after-install', 'before-remove', 'after-remove'] as const) {
  scripts[name] = join(work, `${name}.sh`);
  writeFileSync(scripts[name], fillMacros(packageScript('desktop', name)), { mode: 0o755 });
}
/** fpm's src=dst arguments: the files the package installs. */
const payload = config.deb.fpm.filter((a) => !a.startsWith('--')).map((a) => a.split('=') as [string, string]);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Runs `steps` (bash) in a fresh throwaway root with the package payload installed and
 * returns what they reported: lines `@@key value` become map entries.
 */
function inThrowawayRoot(steps: string, opts: { systemd?: boolean } = {}): Map<string, string[]> {
  const scratch = mkdtempSync(join(work, 'root-'));
  const install = payload.map(([src, dst]) => `install -D -m 0755 ${JSON.stringify(join(root, src))} ${JSON.stringify(dst)}`).join('\n');
  const driver = `set -e
S=${JSON.stringify(scratch)}
for d in etc usr opt var; do
  mkdir -p "$S/$d.upper" "$S/$d.work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$S/$d.upper,workdir=$S/$d.work" "/$d"
done
mount -t tmpfs tmpfs /run
${opts.systemd === false ? '' : 'mkdir -p /run/systemd/system'}
mkdir -p "$S/bin"
printf '#!/bin/sh\\necho "$*" >> %s/systemctl.log\\n' "$S" > "$S/bin/systemctl"
chmod 755 "$S/bin/systemctl"
export PATH="$S/bin:/usr/sbin:/usr/bin:/sbin:/bin"
report() { while IFS= read -r line; do echo "@@$1 $line"; done; }
systemctl_calls() { if [ -f "$S/systemctl.log" ]; then report systemctl < "$S/systemctl.log"; rm -f "$S/systemctl.log"; fi; }
# the payload, as dpkg/rpm would unpack it
${install}
mkdir -p ${JSON.stringify(`/opt/${config.productName}/resources/cli`)}
printf '#!/bin/sh\\n' > ${JSON.stringify(APP)}; chmod 755 ${JSON.stringify(APP)}
${steps}
`;
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'bash', '-c', driver], { encoding: 'utf8', timeout: 60_000 });
  rmSync(scratch, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`throwaway root failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const out = new Map<string, string[]>();
  for (const line of r.stdout.split('\n')) {
    const m = /^@@(\S+) ?(.*)$/.exec(line);
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  out.set('stdout', [r.stdout]);
  return out;
}

const script = (name: string, ...args: string[]) => `bash ${scripts[name]} ${args.join(' ')}`;

describe('deb/rpm maintainer scripts in a throwaway root', () => {
  it('are valid bash, and plain sh (rpm runs scriptlets with /bin/sh), once electron-builder filled in its macros', () => {
    for (const path of Object.values(scripts)) {
      for (const shell of ['bash', 'dash']) {
        const check = spawnSync(shell, ['-n', path], { encoding: 'utf8' });
        expect(check.stderr, `${shell} ${path}`).toBe('');
        expect(check.status, `${shell} ${path}`).toBe(0);
      }
    }
  });

  it('deb install by a sudo user: group, user in it, links, service enabled and started; the unit verifies', () => {
    const seen = inThrowawayRoot(`
useradd --no-create-home alice
SUDO_USER=alice ${script('after-install', 'configure')} | report postinst
getent group causeway | report group
id -nG alice | report alice-groups
readlink -f /usr/bin/${config.linux.executableName} | report app-link
test -x /usr/bin/causeway && echo yes | report cli
systemctl_calls
systemd-analyze verify /usr/lib/systemd/system/causeway-helper.service 2>&1 | report verify || true
echo "\${PIPESTATUS[0]}" | report verify-status
`);
    expect(seen.get('group')?.[0]).toMatch(/^causeway:x:\d+:alice$/);
    expect(seen.get('alice-groups')?.[0]?.split(' ')).toContain('causeway');
    expect(seen.get('postinst')?.join('\n')).toMatch(/added alice to the causeway group; log out and back in/);
    expect(seen.get('app-link')).toEqual([APP]);
    expect(seen.get('cli')).toEqual(['yes']);
    expect(seen.get('systemctl')).toEqual(['daemon-reload', 'enable causeway-helper.service', 'restart causeway-helper.service']);
    expect(seen.get('verify-status'), (seen.get('verify') ?? []).join('\n')).toEqual(['0']);
  });

  it('rpm install through pkexec adds the PKEXEC_UID user; reinstalling changes nothing', () => {
    const seen = inThrowawayRoot(`
useradd --no-create-home carol
PKEXEC_UID="$(id -u carol)" ${script('after-install', '1')} | report first
PKEXEC_UID="$(id -u carol)" ${script('after-install', '2')} | report second
getent group causeway | report group
`);
    expect(seen.get('group')?.[0]).toMatch(/^causeway:x:\d+:carol$/);
    expect(seen.get('first')?.join('\n')).toContain('added carol');
    expect((seen.get('second') ?? []).join('\n')).not.toContain('added');
  });

  it('leaves root and unknown users alone', () => {
    const seen = inThrowawayRoot(`
SUDO_USER=root ${script('after-install', 'configure')} | report root
SUDO_USER=nobody-such-user ${script('after-install', 'configure')} | report ghost
getent group causeway | report group
`);
    expect(seen.get('group')?.[0]).toMatch(/^causeway:x:\d+:$/);
    expect((seen.get('root') ?? []).join('\n')).not.toContain('added');
    expect((seen.get('ghost') ?? []).join('\n')).not.toContain('added');
  });

  it('an upgrade neither stops the service nor removes the links', () => {
    const seen = inThrowawayRoot(`
${script('after-install', 'configure')} >/dev/null
systemctl_calls >/dev/null
${script('before-remove', 'upgrade')}
${script('after-remove', 'upgrade')}
${script('before-remove', '1')}
${script('after-remove', '1')}
systemctl_calls
test -L /usr/bin/${config.linux.executableName} && echo kept | report link
`);
    expect(seen.get('systemctl')).toBeUndefined();
    expect(seen.get('link')).toEqual(['kept']);
  });

  it('removal stops and disables the service before the files go; purge removes the state; the group stays', () => {
    const seen = inThrowawayRoot(`
${script('after-install', 'configure')} >/dev/null
systemctl_calls >/dev/null
mkdir -p /var/lib/causeway/netguard
${script('before-remove', 'remove')}
systemctl_calls
# dpkg removes the package's files between prerm and postrm
${payload.map(([, dst]) => `rm -f ${JSON.stringify(dst)}`).join('; ')}
${script('after-remove', 'purge')}
systemctl_calls
test -e /usr/bin/${config.linux.executableName} && echo present | report link || echo gone | report link
test -e /var/lib/causeway && echo present | report state || echo gone | report state
getent group causeway >/dev/null && echo kept | report group
`);
    expect(seen.get('systemctl')).toEqual(['stop causeway-helper.service', 'disable causeway-helper.service', 'daemon-reload']);
    expect(seen.get('link')).toEqual(['gone']);
    expect(seen.get('state')).toEqual(['gone']);
    expect(seen.get('group')).toEqual(['kept']);
  });

  it('rpm erase (%preun 0, %postun 0) also stops the service and removes the links', () => {
    const seen = inThrowawayRoot(`
${script('after-install', '1')} >/dev/null
systemctl_calls >/dev/null
${script('before-remove', '0')}
${script('after-remove', '0')}
systemctl_calls
test -e /usr/bin/${config.linux.executableName} && echo present | report link || echo gone | report link
`);
    expect(seen.get('systemctl')).toEqual(['stop causeway-helper.service', 'disable causeway-helper.service', 'daemon-reload']);
    expect(seen.get('link')).toEqual(['gone']);
  });

  it('installs into an image or chroot without systemd running: no systemctl, group still made', () => {
    const seen = inThrowawayRoot(
      `
${script('after-install', 'configure')} | report postinst
systemctl_calls
getent group causeway >/dev/null && echo made | report group
`,
      { systemd: false },
    );
    expect(seen.get('systemctl')).toBeUndefined();
    expect(seen.get('group')).toEqual(['made']);
  });

  it('left the real system untouched', () => {
    expect(spawnSync('test', ['-e', '/usr/lib/systemd/system/causeway-helper.service']).status).not.toBe(0);
    expect(spawnSync('test', ['-e', `/usr/bin/${config.linux.executableName}`]).status).not.toBe(0);
  });
});
