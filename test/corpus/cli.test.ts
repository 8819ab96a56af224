// The real `causeway` command: main/cli bundled by esbuild exactly as scripts/build.mjs does,
// run through bin/causeway.cjs by node, with a temporary HOME/XDG_CONFIG_HOME and a real
// gnome-keyring on a private D-Bus (test/support/keyring.ts) where private keys must land.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestKeyring, type TestKeyring } from '../support/keyring.js';

const corpus = dirname(fileURLToPath(import.meta.url));
const repo = join(corpus, '..', '..');
const keyBody = readFileSync(join(corpus, 'pki', 'client.key'), 'utf8').split('\n')[1]!;

let work: string;
let bin: string;
let keyring: TestKeyring;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'cw-cli-'));
  mkdirSync(join(work, 'app', 'bin'), { recursive: true });
  await build({
    entryPoints: [join(repo, 'main/cli/index.ts')],
    outfile: join(work, 'app', 'dist', 'cli', 'causeway.cjs'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    external: ['electron'],
  });
  bin = join(work, 'app', 'bin', 'causeway.cjs');
  copyFileSync(join(repo, 'bin', 'causeway.cjs'), bin);
  keyring = await startTestKeyring();
}, 60_000);

afterAll(async () => {
  await keyring?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A fresh user: own HOME and config folder; `store` picks the keyring or the memory store. */
function user(store: 'keyring' | 'memory') {
  const home = mkdtempSync(join(work, 'home-'));
  const env: NodeJS.ProcessEnv =
    store === 'keyring'
      ? { ...keyring.env, HOME: home, XDG_CONFIG_HOME: join(home, 'cfg'), CAUSEWAY_SECRET_STORE: 'auto' }
      : { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, 'cfg'), CAUSEWAY_SECRET_STORE: 'memory' };
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], { env, cwd: corpus, encoding: 'utf8', timeout: 30_000 });
    const out = `${r.stdout}${r.stderr}`;
    // Nothing the CLI prints ever carries key material.
    expect(out).not.toContain('PRIVATE KEY');
    expect(out).not.toContain(keyBody);
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
  };
  return { home, env, run, profilesDir: join(home, 'cfg', 'Causeway', 'profiles') };
}

describe('causeway (the bundled CLI)', { timeout: 60_000 }, () => {
  it('prints help and version, and exits 1 on unknown commands', () => {
    const u = user('memory');
    expect(u.run('--version').stdout).toMatch(/^causeway \d+\.\d+\.\d+\n$/);
    expect(u.run('--help').stdout).toMatch(/import .*\n.*list/);
    expect(u.run('help', 'import').stdout).toMatch(/--from-aws-vpn-client/);
    const bad = u.run('frobnicate');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no command "frobnicate"/);
    expect(u.run().code).toBe(1);
    const badStore = spawnSync(process.execPath, [bin, 'list'], { env: { ...u.env, CAUSEWAY_SECRET_STORE: 'vault' }, encoding: 'utf8' });
    expect(badStore.status).toBe(1);
    expect(badStore.stderr).toMatch(/secret store cannot be opened: CAUSEWAY_SECRET_STORE must be "auto", "file" or "memory"/);
    const badFlag = u.run('list', '--bogus');
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toMatch(/Unknown option '--bogus'/);
  });

  it('imports, lists, shows, renames and removes a profile', () => {
    const u = user('keyring');
    const imported = u.run('import', 'real-world/aws-mutual-certificate.ovpn', '--name', 'Corp', '--json');
    expect(imported.code).toBe(0);
    const { ok, profile, warnings, errors } = imported.json();
    expect({ ok, warnings, errors }).toEqual({ ok: true, warnings: [], errors: [] });
    expect(profile).toMatchObject({ name: 'Corp', isAws: true, hasKey: true, auth: { kind: 'certificate' } });
    expect(profile.cert.subject).toBe('CN=client');

    // The key is in the keyring, not in the profile file.
    const stored = readFileSync(join(u.profilesDir, `${profile.id}.json`), 'utf8');
    expect(stored).not.toContain('PRIVATE KEY');
    const inKeyring = execFileSync('secret-tool', ['lookup', 'service', 'causeway', 'account', `profile/${profile.id}/key`], { env: u.env, encoding: 'utf8' });
    expect(inKeyring).toContain(keyBody);

    expect(u.run('list', '--json').json()).toEqual({
      profiles: [{ id: profile.id, name: 'Corp', auth: 'certificate', remotes: [expect.stringMatching(/cvpn-endpoint-.*:443\/udp$/)], isAws: true, importedAt: profile.importedAt }],
      damaged: [],
    });
    const shown = u.run('show', 'corp');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/sign-in: +client certificate/);
    expect(shown.stdout).toMatch(/key in secret store/);
    expect(u.run('show', profile.id, '--json').json()).toMatchObject({ id: profile.id, tlsCrypt: false, cert: { subject: 'CN=client' } });

    expect(u.run('import', 'real-world/aws-saml.ovpn', '--name', 'corp').stderr).toMatch(/a profile named "Corp" already exists/);
    expect(u.run('rename', 'Corp', 'Office').stdout).toMatch(/Renamed .* to "Office"/);
    expect(u.run('show', 'Corp').code).toBe(1);
    const removed = u.run('remove', 'Office');
    expect(removed.code).toBe(0);
    expect(u.run('list').stdout).toMatch(/No profiles yet/);
    const gone = spawnSync('secret-tool', ['lookup', 'service', 'causeway', 'account', `profile/${profile.id}/key`], { env: u.env });
    expect(gone.status).toBe(1);
    const missing = u.run('remove', 'Office');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no profile has the id or name "Office"/);
  });

  it('refuses a private key it cannot keep, and says why', () => {
    const u = user('memory');
    const r = u.run('import', 'real-world/pivpn.ovpn');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/carries a private key.* none can keep it: CAUSEWAY_SECRET_STORE=memory/);
    expect(u.run('list', '--json').json().profiles).toEqual([]);
    // Profiles without a private key are fine in the memory store.
    expect(u.run('import', 'real-world/aws-saml.ovpn').code).toBe(0);
  });

  it('--dry-run checks without storing; a refused profile exits 1 with reasons on stderr', () => {
    const u = user('keyring');
    const dry = u.run('import', 'real-world/provider-protonvpn-style.ovpn', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/can be imported \(dry run, nothing stored\)/);
    expect(dry.stderr).toMatch(/warning: line 33: up was removed: it runs a program or script/);
    expect(u.run('list', '--json').json().profiles).toEqual([]);
    const refused = u.run('import', 'hostile/mixed-strip-and-refuse.ovpn');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/error: line 8: cipher none would send your traffic unencrypted/);
    expect(refused.stderr).toMatch(/error: line 10: tls-version-min 1.1 allows TLS below 1.2/);
    const missing = u.run('import', 'no/such/file.ovpn');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist/);
  });

  it('reports a damaged profile file, keeps listing the others, and leaves it untouched', () => {
    const u = user('memory');
    expect(u.run('import', 'real-world/aws-saml.ovpn').code).toBe(0);
    const damaged = join(u.profilesDir, 'half-written-0a0b0c.json');
    writeFileSync(damaged, '{"schemaVersion":1,"id":"half-wri');
    const list = u.run('list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/aws-saml/);
    expect(list.stderr).toMatch(/half-written-0a0b0c.json is damaged and was skipped .* left as it is/);
    expect(u.run('import', 'real-world/aws-directory-mfa.ovpn').code).toBe(0);
    expect(readFileSync(damaged, 'utf8')).toBe('{"schemaVersion":1,"id":"half-wri');
  });
});

describe('causeway on a machine without any keyring, as an ordinary user', { timeout: 60_000 }, () => {
  // No session bus, no Secret Service: the encrypted file store. The commands run as `nobody`,
  // so the file store's ownership and permission checks are those an ordinary user meets.
  const NOBODY = 65534;
  const passphrase = 'file store passphrase for the CLI test';

  function plainUser(extraEnv: NodeJS.ProcessEnv = {}) {
    const home = mkdtempSync(join(tmpdir(), 'cw-nokeyring-'));
    chownSync(home, NOBODY, NOBODY);
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, ...extraEnv };
    const run = (args: string[], input?: string) => {
      const r = spawnSync(process.execPath, [bin, ...args], { env, cwd: corpus, encoding: 'utf8', timeout: 60_000, uid: NOBODY, gid: NOBODY, input: input ?? '' });
      const out = `${r.stdout}${r.stderr}`;
      expect(out).not.toContain('PRIVATE KEY');
      expect(out).not.toContain(keyBody);
      expect(out).not.toContain(passphrase);
      return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
    };
    const secretsFile = join(home, '.local', 'share', 'causeway', 'secrets', 'secrets.json');
    return { home, env, run, secretsFile, profilesDir: join(home, '.config', 'Causeway', 'profiles') };
  }

  let cleanup: string[] = [];
  afterEach(() => {
    for (const d of cleanup) rmSync(d, { recursive: true, force: true });
    cleanup = [];
  });
  beforeAll(() => {
    // `nobody` must reach the bundled CLI.
    chmodSync(work, 0o755);
    mkdirSync(join(repo, 'test-results'), { recursive: true });
    appendFileSync(join(repo, 'test-results', 'secrets.txt'), `${passphrase}\n`);
  });

  it('imports a profile with a key and a tls-crypt key into the encrypted file, announced at import and in show', () => {
    const u = plainUser({ CAUSEWAY_SECRET_PASSPHRASE: passphrase });
    cleanup.push(u.home);
    const imported = u.run(['import', 'real-world/pivpn.ovpn', '--json']);
    expect(imported.code).toBe(0);
    expect(imported.json()).toMatchObject({ ok: true, secretStore: 'file', profile: { hasKey: true, tlsCrypt: true } });
    const id = imported.json().profile.id as string;
    const stored = readFileSync(join(u.profilesDir, `${id}.json`), 'utf8');
    expect(stored).not.toContain('PRIVATE KEY');
    expect(stored).not.toContain('OpenVPN Static key');
    const st = statSync(u.secretsFile);
    expect([st.uid, st.mode & 0o777, statSync(dirname(u.secretsFile)).mode & 0o777]).toEqual([NOBODY, 0o600, 0o700]);
    const onDisk = readFileSync(u.secretsFile, 'utf8');
    expect(onDisk).not.toContain(keyBody);
    expect(onDisk).not.toContain('Static key');

    const text = u.run(['import', 'real-world/opnsense-export.ovpn']);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/note: secrets are kept in the encrypted file .*secrets\.json \(no D-Bus session bus/);
    expect(u.run(['show', id, '--json']).json()).toMatchObject({ id, secretStore: 'file' });
    expect(u.run(['show', id]).stdout).toMatch(/secrets: +kept in the encrypted file/);
  });

  it('reads the passphrase from a non-terminal stdin, and refuses a wrong one without losing anything', () => {
    const u = plainUser();
    cleanup.push(u.home);
    const first = u.run(['import', 'real-world/pivpn.ovpn', '--name', 'Pi'], `${passphrase}\n`);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/Choose its passphrase/);
    const wrong = u.run(['import', 'real-world/opnsense-export.ovpn', '--name', 'Other'], 'not the passphrase\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/wrong passphrase for Causeway's secret file/);
    const none = u.run(['import', 'real-world/opnsense-export.ovpn', '--name', 'Other']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no passphrase was given/);
    expect(u.run(['list', '--json']).json().profiles.map((p: { name: string }) => p.name)).toEqual(['Pi']);
  });

  it('asks for an encrypted key\'s passphrase on a non-terminal stdin, again after a wrong one, then for the secret file\'s', () => {
    const u = plainUser();
    cleanup.push(u.home);
    // Answers in the documented order: the key's passphrase (a wrong one, then "corpus"), then the secret file's.
    const r = u.run(['import', 'real-world/passphrase-key-prompted.ovpn', '--name', 'Locked'], `not it\ncorpus\n${passphrase}\n`);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Passphrase of the private key in passphrase-key-prompted.ovpn: \nWrong passphrase\. Try again\.\nPassphrase of the private key/);
    expect(r.stdout).toMatch(/Imported "real-world\/passphrase-key-prompted.ovpn"/);
    const id = u.run(['show', 'Locked', '--json']).json().id as string;
    const stored = readFileSync(join(u.profilesDir, `${id}.json`), 'utf8');
    expect(stored).not.toContain('PRIVATE KEY');
    expect(stored).not.toContain('corpus\n');
    // The decrypted key is in the encrypted file, which the passphrase opens.
    expect(readFileSync(u.secretsFile, 'utf8')).not.toContain('PRIVATE KEY');
    expect(u.run(['show', 'Locked']).stdout).toMatch(/key in secret store/);

    const wrong = u.run(['import', 'real-world/passphrase-key-prompted.ovpn', '--name', 'Again'], 'a\nb\nc\n');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/error: line 32: wrong passphrase for the private key/);
    const none = u.run(['import', 'real-world/passphrase-key-prompted.ovpn', '--name', 'Again']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no passphrase was given for the encrypted key; nothing was imported/);
    expect(u.run(['list', '--json']).json().profiles.map((p: { name: string }) => p.name)).toEqual(['Locked']);
  });

  it('--json announces each passphrase question as a prompt event line before the result', () => {
    const u = plainUser({ CAUSEWAY_SECRET_PASSPHRASE: passphrase });
    cleanup.push(u.home);
    const r = u.run(['import', 'real-world/pkcs12-with-password/client.ovpn', '--json'], 'guess\nsecret\n');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 2).map((l) => JSON.parse(l))).toEqual([
      { event: 'prompt', kind: 'passphrase', purpose: 'pkcs12', retry: false, file: 'client.ovpn' },
      { event: 'prompt', kind: 'passphrase', purpose: 'pkcs12', retry: true, file: 'client.ovpn' },
    ]);
    expect(JSON.parse(lines.slice(2).join('\n'))).toMatchObject({ ok: true, secretStore: 'file', profile: { hasKey: true, auth: { kind: 'certificate' } } });
  });

  it('--dry-run of a keyed profile never touches a secret store', () => {
    // A secret-tool that records being run, first on the PATH, and a bus address: dry runs must not ask it.
    const u = plainUser({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' });
    cleanup.push(u.home);
    const fakeBin = join(u.home, 'bin');
    mkdirSync(fakeBin);
    writeFileSync(join(fakeBin, 'secret-tool'), `#!/bin/sh\necho "$@" >> ${join(u.home, 'secret-tool-was-run')}\nexit 1\n`, { mode: 0o755 });
    chownSync(fakeBin, NOBODY, NOBODY);
    u.env.PATH = `${fakeBin}:${process.env.PATH}`;
    const dry = u.run(['import', 'real-world/pivpn.ovpn', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(dry.json()).toMatchObject({ ok: true, secretStore: null, profile: { id: '', hasKey: true } });
    expect(existsSync(join(u.home, 'secret-tool-was-run'))).toBe(false);
    expect(existsSync(u.secretsFile)).toBe(false);
  });

  it('moves the tls-auth key of a profile stored by an older version out of its JSON', () => {
    const u = plainUser({ CAUSEWAY_SECRET_PASSPHRASE: passphrase });
    cleanup.push(u.home);
    const id = u.run(['import', 'real-world/router-asus-merlin.ovpn', '--json']).json().profile.id as string;
    const file = join(u.profilesDir, `${id}.json`);
    const current = JSON.parse(readFileSync(file, 'utf8'));
    const taKey = readFileSync(join(corpus, 'pki', 'ta.key'), 'utf8');
    writeFileSync(file, JSON.stringify({ ...current, tlsAuth: { key: taKey, direction: current.tlsAuth.direction } }));
    expect(u.run(['list']).code).toBe(0);
    const rewritten = readFileSync(file, 'utf8');
    expect(rewritten).not.toContain('OpenVPN Static key');
    expect(JSON.parse(rewritten).tlsAuth).toEqual({ direction: current.tlsAuth.direction });
  });
});

describe('causeway import --from-aws-vpn-client', () => {
  /** Lays out ~/.config/AWSVPNClient as the official client leaves it. */
  function awsClientFolder(home: string): void {
    const dir = join(home, '.config', 'AWSVPNClient');
    mkdirSync(join(dir, 'OpenVpnConfigs'), { recursive: true });
    const entries = [
      ['Prod SAML', 'real-world/aws-saml.ovpn', 'cvpn-endpoint-0a1b2c3d4e5f60718', 1],
      ['Dev MFA', 'real-world/aws-directory-mfa.ovpn', 'cvpn-endpoint-0a1b2c3d4e5f60718', 0],
      ['Legacy', 'hostile/tls-1.0-min.ovpn', 'cvpn-endpoint-0ffffffffffffffff', 0],
    ] as const;
    for (const [name, file] of entries) copyFileSync(join(corpus, file), join(dir, 'OpenVpnConfigs', name));
    writeFileSync(
      join(dir, 'ConnectionProfiles'),
      JSON.stringify({
        Version: '1',
        LastSelectedProfileIndex: 0,
        ConnectionProfiles: entries.map(([name, , endpoint, federated]) => ({
          ProfileName: name,
          // Written on another machine: only the base name is used.
          OvpnConfigFilePath: `/Users/someone/.config/AWSVPNClient/OpenVpnConfigs/${name}`,
          CvpnEndpointId: endpoint,
          CvpnEndpointRegion: 'eu-west-2',
          CompatibilityVersion: '2',
          FederatedAuthType: federated,
        })),
      }),
    );
  }

  it('imports every profile it can, reports the others, and is safe to run twice', () => {
    const u = user('memory');
    expect(u.run('import', '--from-aws-vpn-client').stderr).toMatch(/no AWS VPN Client profiles were found/);
    awsClientFolder(u.home);
    const first = u.run('import', '--from-aws-vpn-client', '--json');
    expect(first.code).toBe(1);
    const results = first.json().results as { name: string; status: string; profile: { auth: { kind: string }; aws: unknown; source: unknown } | null; errors: { message: string }[] }[];
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['Prod SAML', 'imported'],
      ['Dev MFA', 'imported'],
      ['Legacy', 'failed'],
    ]);
    expect(results[0]!.profile).toMatchObject({
      auth: { kind: 'aws-saml' },
      aws: { endpointId: 'cvpn-endpoint-0a1b2c3d4e5f60718', region: 'eu-west-2' },
      source: { importer: 'aws-vpn-client', fileName: 'Prod SAML' },
    });
    expect(results[2]!.errors[0]!.message).toMatch(/TLS below 1.2/);
    expect(first.stderr).toMatch(/AWS VPN Client profile "Legacy" was not imported/);

    const second = u.run('import', '--from-aws-vpn-client');
    expect(second.stdout).toMatch(/Skipped "Prod SAML": already imported/);
    expect(second.stdout).toMatch(/Skipped "Dev MFA": already imported/);
    expect(u.run('list', '--json').json().profiles.map((p: { name: string }) => p.name)).toEqual(['Dev MFA', 'Prod SAML']);
    expect(readdirSync(u.profilesDir)).toHaveLength(2);
  });
});
