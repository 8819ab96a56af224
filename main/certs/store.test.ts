import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPki, type Pki } from '../../test/peers/lab/pki.js';
import { startTestKeyring, type TestKeyring } from '../../test/support/keyring.js';
import { checkProfile } from '../../app/profile/index.js';
import { SecretServiceStore } from '../secrets/secret-service-store.js';
import { MemoryStore } from '../secrets/memory-store.js';
import { ProfileStore } from '../profiles/store.js';
import { CertStore, certKeyAccount } from './store.js';
import { expiryStatus, expiryWarning, readPemPair, readPkcs12 } from './certificate.js';

let dir: string;
let pki: Pki;
let keyring: TestKeyring;
const P12_PASSWORD = 'p12-test-password';

function p12(name: string, cert: string, key: string, extra: string[] = []): Buffer {
  const out = join(dir, `${name}.p12`);
  execFileSync('openssl', ['pkcs12', '-export', '-in', cert, '-inkey', key, '-out', out, '-passout', `pass:${P12_PASSWORD}`, ...extra]);
  return readFileSync(out);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cw-certs-'));
  [pki, keyring] = await Promise.all([createPki(join(dir, 'pki')), startTestKeyring()]);
}, 60_000);
afterAll(async () => {
  await keyring?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('reading certificates', () => {
  it('reads PKCS#12 files: AES (OpenSSL 3 default), legacy RC2/3DES, EC keys, with the CA chain', () => {
    const rsa = readPkcs12(p12('rsa', pki.clientRsa.certPath, pki.clientRsa.keyPath, ['-certfile', pki.caPath]), P12_PASSWORD);
    expect(rsa.details).toMatchObject({ subject: 'CN=client-rsa', issuer: 'CN=Causeway Lab CA', keyType: 'RSA 2048', isCa: false, clientAuth: true });
    expect(rsa.details.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(rsa.chain).toContain('BEGIN CERTIFICATE');
    expect(rsa.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const legacy = readPkcs12(p12('legacy', pki.clientRsa.certPath, pki.clientRsa.keyPath, ['-legacy']), P12_PASSWORD);
    expect(legacy.details.subject).toBe('CN=client-rsa');
    const ec = readPkcs12(p12('ec', pki.clientEc.certPath, pki.clientEc.keyPath), P12_PASSWORD);
    expect(ec.details.keyType).toBe('EC P-256');
    expect(ec.chain).toBeNull();
  });

  it('says clearly when the PKCS#12 password is wrong or the file is not PKCS#12', () => {
    const bytes = p12('wrongpw', pki.clientEc.certPath, pki.clientEc.keyPath);
    expect(() => readPkcs12(bytes, 'nope')).toThrow('wrong password for this PKCS#12 file');
    expect(() => readPkcs12(Buffer.from('hello'), 'x')).toThrow(/not a readable PKCS#12 file/);
  });

  it('reads PEM pairs, including an encrypted key, and refuses a key that does not match', () => {
    const pair = readPemPair(pki.clientEc.cert, pki.clientEc.key);
    expect(pair.details.subject).toBe('CN=client-ec');
    const encrypted = execFileSync('openssl', ['pkey', '-in', pki.clientRsa.keyPath, '-aes256', '-passout', 'pass:pem-pass']).toString();
    expect(() => readPemPair(pki.clientRsa.cert, encrypted)).toThrow('the private key is encrypted; give its passphrase');
    expect(() => readPemPair(pki.clientRsa.cert, encrypted, 'bad')).toThrow('wrong passphrase for the private key');
    expect(readPemPair(pki.clientRsa.cert, encrypted, 'pem-pass').details.subject).toBe('CN=client-rsa');
    expect(() => readPemPair(pki.clientRsa.cert, pki.clientEc.key)).toThrow(/does not belong/);
    expect(() => readPemPair('junk', pki.clientEc.key)).toThrow(/no PEM certificate/);
  });

  it('warns before and after expiry', () => {
    const expired = readPemPair(pki.expiredServer.cert, pki.expiredServer.key).details;
    expect(expiryStatus(expired)).toBe('expired');
    expect(expiryWarning(expired)).toMatch(/expired on 2021-01-01/);
    const fresh = readPemPair(pki.clientEc.cert, pki.clientEc.key).details;
    expect(expiryWarning(fresh)).toBeNull();
    const soon = Date.parse(fresh.validTo) - 10 * 86_400_000 - 1000;
    expect(expiryStatus(fresh, soon)).toBe('expiring');
    expect(expiryWarning(fresh, soon)).toMatch(/expires in 10 days/);
  });
});

describe('CertStore on the real keyring', () => {
  it('imports, lists, attaches to a profile without a certificate, and removes', async () => {
    const secrets = new SecretServiceStore(keyring.env);
    const profiles = new ProfileStore(join(dir, 'profiles'), secrets);
    const certs = new CertStore(join(dir, 'certs'), secrets, profiles);
    const verdict = checkProfile(`client\nremote cvpn-endpoint-0123456789abcdef0.prod.clientvpn.us-east-1.amazonaws.com 443 udp\n<ca>\n${pki.ca}</ca>\n`);
    const profile = await profiles.add(verdict.settings!, verdict.secrets, { name: 'AWS', source: { fileName: null, importer: 'ovpn' } });
    expect(profile.cert).toBeNull();

    const stored = await certs.importPkcs12(p12('store', pki.clientEc.certPath, pki.clientEc.keyPath), P12_PASSWORD);
    expect(stored.name).toBe('client-ec');
    expect(await secrets.get(certKeyAccount(stored.id))).toContain('PRIVATE KEY');
    expect(readFileSync(join(dir, 'certs', `${stored.id}.json`), 'utf8')).not.toContain('PRIVATE KEY');
    await expect(certs.importPem(pki.clientEc.cert, pki.clientEc.key)).rejects.toThrow(/already imported as "client-ec"/);
    expect(certs.list().map((c) => c.id)).toEqual([stored.id]);

    const { profile: attached, warnings } = await certs.attach('client-ec', 'AWS');
    expect(warnings).toEqual([]);
    expect(attached).toMatchObject({ cert: stored.cert, hasKey: true, auth: { kind: 'certificate' } });
    expect(await profiles.privateKey(profiles.resolve('AWS'))).toContain('PRIVATE KEY');
    await expect(certs.attach('client-ec', 'AWS')).rejects.toThrow(/already has a client certificate/);

    await certs.remove(stored.id);
    expect(certs.list()).toEqual([]);
    expect(await secrets.get(certKeyAccount(stored.id))).toBeNull();
    expect(await profiles.privateKey(profiles.resolve('AWS'))).toContain('PRIVATE KEY'); // the profile keeps its copy
    await profiles.remove('AWS');
  });

  it('warns when attaching a certificate from another CA', async () => {
    const secrets = new SecretServiceStore(keyring.env);
    const profiles = new ProfileStore(join(dir, 'profiles2'), secrets);
    const certs = new CertStore(join(dir, 'certs2'), secrets, profiles);
    const verdict = checkProfile(`client\nremote vpn.example.test 1194\nauth-user-pass\n<ca>\n${pki.otherCa}</ca>\n`);
    await profiles.add(verdict.settings!, verdict.secrets, { name: 'Other', source: { fileName: null, importer: 'ovpn' } });
    await certs.importPem(pki.clientRsa.cert, pki.clientRsa.key, { name: 'Laptop' });
    const { profile, warnings } = await certs.attach('Laptop', 'Other');
    expect(profile.auth.kind).toBe('certificate+password');
    expect(warnings[0]).toMatch(/not issued by the CA of profile "Other"/);
  });

  it('refuses to import when secrets cannot be persisted, saying why', async () => {
    const secrets = new MemoryStore('no D-Bus session bus');
    const certs = new CertStore(join(dir, 'certs3'), secrets, new ProfileStore(join(dir, 'p3'), secrets));
    await expect(certs.importPem(pki.clientEc.cert, pki.clientEc.key)).rejects.toThrow(/none is available: no D-Bus session bus/);
    expect(certs.list()).toEqual([]);
  });
});
