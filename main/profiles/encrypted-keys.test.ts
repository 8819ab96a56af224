// Profiles whose key is locked: passphrase-protected PEM keys in both of OpenSSL's formats and
// PKCS#12 bundles with a password, each written by the real openssl at test time (OpenSSL 3's
// defaults and -legacy), opened at import with a typed passphrase or an askpass file.
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepingSecretStore, type InspectableSecretStore } from '../../test/corpus/support/secrets.js';
import { createPki, type Pki } from '../../test/peers/lab/pki.js';
import { decryptPrivateKey } from '../certs/certificate.js';
import { importOvpnFile, type KeyPassphraseRequest } from './importer.js';
import { ProfileStore } from './store.js';

const PASSPHRASE = 'locked key passphrase 7Qz';
let dir: string;
let pki: Pki;

const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
const text = (path: string) => readFileSync(path, 'utf8');

/** The client key written the way each tool does it; returns the PEM text. */
const lockedKeys = {
  'PKCS#8 (openssl 3 default: PBES2, AES-256-CBC)': () => openssl('pkcs8', '-topk8', '-in', pki.clientRsa.keyPath, '-passout', `pass:${PASSPHRASE}`).toString(),
  'PKCS#8 with -v1 PBE-SHA1-3DES': () => openssl('pkcs8', '-topk8', '-v1', 'PBE-SHA1-3DES', '-in', pki.clientRsa.keyPath, '-passout', `pass:${PASSPHRASE}`).toString(),
  'traditional RSA (Proc-Type/DEK-Info, AES-256-CBC)': () => openssl('rsa', '-traditional', '-aes256', '-in', pki.clientRsa.keyPath, '-passout', `pass:${PASSPHRASE}`).toString(),
  'traditional RSA (DES-EDE3-CBC, easy-rsa 2 style)': () => openssl('rsa', '-traditional', '-des3', '-in', pki.clientRsa.keyPath, '-passout', `pass:${PASSPHRASE}`).toString(),
};

function p12(name: string, extra: string[], password = PASSPHRASE): string {
  const out = join(dir, `${name}.p12`);
  openssl('pkcs12', '-export', '-in', pki.clientRsa.certPath, '-inkey', pki.clientRsa.keyPath, '-certfile', pki.caPath, '-out', out, '-passout', `pass:${password}`, ...extra);
  return out;
}

/** A profile folder with the given files; returns the profile's path. */
function profile(name: string, body: string, files: Record<string, string | Buffer> = {}): string {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  for (const [f, content] of Object.entries(files)) writeFileSync(join(folder, f), content);
  const file = join(folder, 'client.ovpn');
  writeFileSync(file, `client\nremote vpn.example.com 1194\nremote-cert-tls server\n${body}`);
  return file;
}

const withCa = () => `<ca>\n${text(pki.caPath)}</ca>\n<cert>\n${text(pki.clientRsa.certPath)}</cert>\n`;

function answers(...given: (string | null)[]) {
  const asked: KeyPassphraseRequest[] = [];
  return { asked, ask: async (r: KeyPassphraseRequest) => (asked.push(r), given.shift() ?? null) };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cw-locked-'));
  pki = await createPki(join(dir, 'pki'));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The unencrypted PKCS#8 form of the lab's RSA client key, to compare what was stored. */
const plainKey = () => createPrivateKey(text(pki.clientRsa.keyPath)).export({ type: 'pkcs8', format: 'pem' }).toString();

function newStore(): { store: ProfileStore; secrets: InspectableSecretStore } {
  const secrets = keepingSecretStore();
  return { store: new ProfileStore(mkdtempSync(join(dir, 'profiles-')), secrets), secrets };
}

describe('decryptPrivateKey', () => {
  it.each(Object.keys(lockedKeys))('opens %s and refuses a wrong passphrase', (kind) => {
    const pem = lockedKeys[kind as keyof typeof lockedKeys]();
    expect(pem).toMatch(/ENCRYPTED/);
    expect(decryptPrivateKey(pem, PASSPHRASE)).toBe(plainKey());
    expect(decryptPrivateKey(pem, 'not it')).toBeNull();
  });

  it('opens a traditional EC key', () => {
    const pem = openssl('ec', '-aes256', '-in', pki.clientEc.keyPath, '-passout', `pass:${PASSPHRASE}`).toString();
    expect(pem).toMatch(/Proc-Type: 4,ENCRYPTED/);
    expect(decryptPrivateKey(pem, PASSPHRASE)).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
});

describe('importing a profile with a locked key', () => {
  it.each(Object.keys(lockedKeys))('asks for the passphrase of an inline %s key and stores only the decrypted key', async (kind) => {
    const pem = lockedKeys[kind as keyof typeof lockedKeys]();
    const file = profile(`inline-${kind.replace(/\W+/g, '-')}`, `${withCa()}<key>\n${pem}</key>\n`);
    const { store, secrets } = newStore();
    const { asked, ask } = answers(PASSPHRASE);
    const r = await importOvpnFile(store, file, { askPassphrase: ask });
    expect(r.errors).toEqual([]);
    expect(asked).toEqual([{ locked: 'key', wrong: false, fileName: 'client.ovpn' }]);
    expect(r.profile).toMatchObject({ hasKey: true, auth: { kind: 'certificate' } });
    expect(secrets.entries.get(`profile/${r.profile!.id}/key`)).toBe(plainKey());
    const json = readFileSync(join(store.dir, `${r.profile!.id}.json`), 'utf8');
    expect(json).not.toContain('PRIVATE KEY');
    expect(json).not.toContain(PASSPHRASE);
    expect([...secrets.entries.values()].join('')).not.toContain(PASSPHRASE);
  });

  it('asks again after a wrong passphrase, at most 3 times, and stores nothing when all are wrong', async () => {
    const file = profile('retry', `${withCa()}key client.key\n`, { 'client.key': lockedKeys['PKCS#8 (openssl 3 default: PBES2, AES-256-CBC)']() });
    const { store, secrets } = newStore();
    const second = answers('wrong one', PASSPHRASE);
    const ok = await importOvpnFile(store, file, { askPassphrase: second.ask });
    expect(ok.ok).toBe(true);
    expect(second.asked.map((a) => a.wrong)).toEqual([false, true]);

    const { store: other, secrets: otherSecrets } = newStore();
    const wrong = answers('a', 'b', 'c', 'd');
    const r = await importOvpnFile(other, file, { askPassphrase: wrong.ask });
    expect(wrong.asked).toHaveLength(3);
    expect(r).toMatchObject({ ok: false, profile: null, errors: [{ line: expect.any(Number), directive: 'key', message: 'wrong passphrase for the private key' }] });
    expect(other.list().profiles).toEqual([]);
    expect(otherSecrets.entries.size).toBe(0);
    expect(secrets.entries.size).toBe(1);
  });

  it('stores nothing when no passphrase is given, and without a way to ask says how to import it', async () => {
    const file = profile('unanswered', `${withCa()}<key>\n${lockedKeys['traditional RSA (Proc-Type/DEK-Info, AES-256-CBC)']()}</key>\n`);
    const { store, secrets } = newStore();
    const cancelled = await importOvpnFile(store, file, { askPassphrase: answers(null).ask });
    expect(cancelled.errors.map((e) => e.message)).toEqual(['no passphrase was given for the encrypted key; nothing was imported']);
    const unasked = await importOvpnFile(store, file);
    expect(unasked.errors[0]!.message).toMatch(/^the private key is protected by a passphrase and none was given: .*askpass/);
    expect(store.list().profiles).toEqual([]);
    expect(secrets.entries.size).toBe(0);
  });

  it.each([
    ['OpenSSL 3 default (PBES2, AES-256-CBC, SHA-256 MAC)', []],
    ['-legacy (RC2-40 and 3DES, SHA-1 MAC)', ['-legacy']],
  ])('opens a PKCS#12 file with a password, %s, inline or as a file', async (_kind, extra) => {
    const bundle = readFileSync(p12(`bundle-${extra.length}`, extra));
    for (const body of ['pkcs12 client.p12\n', `<pkcs12>\n${bundle.toString('base64')}\n</pkcs12>\n`]) {
      const file = profile(`p12-${extra.length}-${body.length}`, body, { 'client.p12': bundle });
      const { store, secrets } = newStore();
      const { asked, ask } = answers('wrong', PASSPHRASE);
      const r = await importOvpnFile(store, file, { askPassphrase: ask });
      expect(r.errors).toEqual([]);
      expect(asked.map((a) => [a.locked, a.wrong])).toEqual([
        ['pkcs12', false],
        ['pkcs12', true],
      ]);
      // The bundle's CA became the profile's CA, its key the secret.
      expect(r.profile).toMatchObject({ hasKey: true, auth: { kind: 'certificate' }, ca: text(pki.caPath) });
      expect(secrets.entries.get(`profile/${r.profile!.id}/key`)).toBe(plainKey());
    }
  });

  it('still opens a PKCS#12 file without a password without asking', async () => {
    const file = profile('p12-nopass', 'pkcs12 client.p12\n', { 'client.p12': readFileSync(p12('nopass', [], '')) });
    const { asked, ask } = answers();
    const r = await importOvpnFile(newStore().store, file, { askPassphrase: ask });
    expect(r.ok).toBe(true);
    expect(asked).toEqual([]);
  });
});

describe('askpass', () => {
  const locked = () => lockedKeys['PKCS#8 (openssl 3 default: PBES2, AES-256-CBC)']();

  it('opens the key with the first line of a file next to the profile, without asking, also when it comes after the key', async () => {
    const file = profile('askpass-in', `${withCa()}<key>\n${locked()}</key>\naskpass pass.txt\n`, { 'pass.txt': `${PASSPHRASE}\r\nsecond line\n` });
    const { store, secrets } = newStore();
    const { asked, ask } = answers();
    const r = await importOvpnFile(store, file, { askPassphrase: ask });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(asked).toEqual([]);
    expect(secrets.entries.get(`profile/${r.profile!.id}/key`)).toBe(plainKey());
    expect(readFileSync(join(store.dir, `${r.profile!.id}.json`), 'utf8')).not.toContain(PASSPHRASE);
  });

  it('opens a PKCS#12 password from askpass too', async () => {
    const file = profile('askpass-p12', 'askpass p12.pass\npkcs12 client.p12\n', { 'client.p12': readFileSync(p12('askpass', [])), 'p12.pass': PASSPHRASE });
    const r = await importOvpnFile(newStore().store, file);
    expect(r.errors).toEqual([]);
  });

  it('refuses a passphrase file outside the profile folder, with the reason, and reads nothing from it', async () => {
    writeFileSync(join(dir, 'outside.pass'), PASSPHRASE);
    const file = profile('askpass-out', `${withCa()}<key>\n${locked()}</key>\naskpass ../outside.pass\n`);
    const { store, secrets } = newStore();
    const { asked, ask } = answers();
    const r = await importOvpnFile(store, file, { askPassphrase: ask });
    expect(r.ok).toBe(false);
    expect(r.errors).toContainEqual({ line: expect.any(Number), directive: 'askpass', message: 'the file "../outside.pass" is outside the profile\'s folder; only files next to the profile are read' });
    expect(r.errors).toHaveLength(1);
    expect(secrets.entries.size).toBe(0);
    expect(asked).toEqual([]);
  });

  it('a wrong passphrase in the file refuses the profile naming the file, without asking', async () => {
    const file = profile('askpass-wrong', `${withCa()}askpass pass.txt\n<key>\n${locked()}</key>\n`, { 'pass.txt': 'not the passphrase\n' });
    const { asked, ask } = answers(PASSPHRASE);
    const r = await importOvpnFile(newStore().store, file, { askPassphrase: ask });
    expect(r.errors.map((e) => e.message)).toEqual(['the passphrase in the askpass file "pass.txt" does not open the private key']);
    expect(asked).toEqual([]);
  });

  it('is left out with a warning, its file unread, when no key is locked', async () => {
    const file = profile('askpass-unused', `${withCa()}<key>\n${text(pki.clientRsa.keyPath)}</key>\naskpass /etc/shadow\n`);
    const r = await importOvpnFile(newStore().store, file);
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([{ line: expect.any(Number), directive: 'askpass', message: 'askpass was left out: the profile has no passphrase-protected key, so its file was not read' }]);
  });

  it('plain askpass means "ask"', async () => {
    const file = profile('askpass-ask', `${withCa()}askpass\n<key>\n${locked()}</key>\n`);
    const { asked, ask } = answers(PASSPHRASE);
    const r = await importOvpnFile(newStore().store, file, { askPassphrase: ask });
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([]);
    expect(asked).toHaveLength(1);
  });
});
