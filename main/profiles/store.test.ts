import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkProfile, NO_SECRETS, type ProfileSecrets, type ProfileSettings } from '../../app/profile/index.js';
import { keepingSecretStore, type InspectableSecretStore } from '../../test/corpus/support/secrets.js';
import { MemoryStore } from '../secrets/memory-store.js';
import { keyAccount, ProfileStore, ProfileStoreError } from './store.js';
import { proxyCredentialsAccount, readProxyCredentials, readStaticKeys } from './secret-accounts.js';

const pki = (f: string) => readFileSync(new URL(`../../test/corpus/pki/${f}`, import.meta.url), 'utf8');
const withKey = checkProfile(`client\nremote vpn.example.com 1194\n<ca>\n${pki('ca.crt')}</ca>\n<cert>\n${pki('client.crt')}</cert>\n<key>\n${pki('client.key')}</key>\n`);
const noKey = checkProfile(`client\nremote vpn.example.com 1194\nauth-user-pass\n<ca>\n${pki('ca.crt')}</ca>\n`);
const settings = (v: typeof withKey): ProfileSettings => v.settings!;
const src = { fileName: 'x.ovpn', importer: 'ovpn' as const };
const none: ProfileSecrets = NO_SECRETS;

let dir: string;
let secrets: InspectableSecretStore;
let store: ProfileStore;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'cw-store-')), 'profiles');
  secrets = keepingSecretStore();
  store = new ProfileStore(dir, secrets);
});
afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

describe('ProfileStore', () => {
  it('adds, lists, resolves, renames and removes; keys go to the secret store only', async () => {
    const p = await store.add(settings(withKey), withKey.secrets, { name: 'Corp VPN', source: src });
    expect(p.id).toMatch(/^corp-vpn-[0-9a-f]{6}$/);
    const file = join(dir, `${p.id}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const json = readFileSync(file, 'utf8');
    expect(json).not.toContain('PRIVATE KEY');
    expect(JSON.parse(json)).toEqual(p);
    expect(secrets.entries.get(keyAccount(p.id))).toContain('BEGIN PRIVATE KEY');
    expect(await store.privateKey(p)).toBe(secrets.entries.get(keyAccount(p.id)));

    expect(store.list().profiles.map((x) => x.name)).toEqual(['Corp VPN']);
    expect(store.resolve('corp vpn').id).toBe(p.id);
    expect(store.resolve(p.id).name).toBe('Corp VPN');
    const renamed = store.rename('Corp VPN', 'Office');
    expect(renamed.id).toBe(p.id);
    expect(store.resolve('Office').id).toBe(p.id);
    await store.remove(p.id);
    expect(store.list().profiles).toEqual([]);
    expect(secrets.entries.size).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps the proxy password in the secret store only, and removes it with the profile', async () => {
    const v = checkProfile(
      `client\nremote vpn.example.com 443 tcp\nauth-user-pass\n<ca>\n${pki('ca.crt')}</ca>\nhttp-proxy 10.0.0.1 3128 auto\n<http-proxy-user-pass>\nbob\nproxy-pw-123\n</http-proxy-user-pass>\n`,
    );
    const p = await store.add(settings(v), v.secrets, { name: 'Proxied', source: src });
    expect(readFileSync(join(dir, `${p.id}.json`), 'utf8')).not.toContain('proxy-pw-123');
    expect(p.proxy).toMatchObject({ kind: 'http', host: '10.0.0.1', port: 3128, hasCredentials: true });
    expect(secrets.entries.get(proxyCredentialsAccount(p.id))).toContain('proxy-pw-123');
    expect(await readProxyCredentials(secrets, p)).toEqual({ username: 'bob', password: 'proxy-pw-123' });
    await store.remove(p.id);
    expect(secrets.entries.size).toBe(0);
  });

  it('replace() rewrites an existing profile and refuses an unknown one', async () => {
    const p = await store.add(settings(noKey), none, { name: 'VPN', source: src });
    store.replace({ ...p, tunMtu: 1400 });
    expect(store.resolve(p.id).tunMtu).toBe(1400);
    expect(() => store.replace({ ...p, id: 'nope-000000' })).toThrow(ProfileStoreError);
    expect(readdirSync(dir)).toEqual([`${p.id}.json`]);
  });

  it('keeps names unique and resolves ambiguity by id', async () => {
    const a = await store.add(settings(noKey), none, { name: 'VPN', source: src });
    await expect(store.add(settings(noKey), none, { name: 'vpn', source: src })).rejects.toThrow(/already exists/);
    expect(store.freeName('VPN')).toBe('VPN (2)');
    const b = await store.add(settings(noKey), none, { name: store.freeName('VPN'), source: src });
    expect(() => store.rename(b.id, 'VPN')).toThrow(/already exists/);
    expect(() => store.rename(a.id, '  ')).toThrow(/cannot be empty/);
    expect(() => store.resolve('nope')).toThrow(ProfileStoreError);
  });

  it('refuses a private key when the secret store cannot keep it, and writes nothing', async () => {
    const ephemeral = new ProfileStore(dir, new MemoryStore('no D-Bus session bus'));
    await expect(ephemeral.add(settings(withKey), withKey.secrets, { name: 'k', source: src })).rejects.toThrow(
      /carries a private key, .* none can keep it: no D-Bus session bus/,
    );
    expect(ephemeral.list().profiles).toEqual([]);
    // Without secrets, the memory store is fine.
    await ephemeral.add(settings(noKey), none, { name: 'p', source: src });
    expect(ephemeral.list().profiles).toHaveLength(1);
  });

  it('rolls back secrets already written when a later one fails, and writes no profile', async () => {
    const both = checkProfile(`remote h\n<ca>\n${pki('ca.crt')}</ca>\n<cert>\n${pki('client.crt')}</cert>\n<key>\n${pki('client.key')}</key>\n<auth-user-pass>\nalice\npw\n</auth-user-pass>\n`);
    secrets.failOn = /password$/;
    await expect(store.add(settings(both), both.secrets, { name: 'k', source: src })).rejects.toThrow(/could not be saved: keyring locked/);
    expect(secrets.entries.size).toBe(0);
    expect(store.list().profiles).toEqual([]);
  });

  it('says so when the profiles folder is not a folder', () => {
    writeFileSync(join(dir, '..', 'blocker'), '');
    expect(() => new ProfileStore(join(dir, '..', 'blocker'), secrets).list()).toThrow(/is not a folder/);
  });

  it('reports a damaged file, skips it and never touches it', async () => {
    await store.add(settings(noKey), none, { name: 'good', source: src });
    const damaged = join(dir, 'broken-abcdef.json');
    writeFileSync(damaged, '{"schemaVersion": 1, "id": "broken-abc');
    const wrongVersion = join(dir, 'future-123456.json');
    writeFileSync(wrongVersion, JSON.stringify({ schemaVersion: 99, id: 'future-123456' }));
    const before = [readFileSync(damaged), readFileSync(wrongVersion)];
    const { profiles, damaged: bad } = store.list();
    expect(profiles.map((p) => p.name)).toEqual(['good']);
    expect(bad.map((d) => d.file).sort()).toEqual([damaged, wrongVersion]);
    expect(bad.find((d) => d.file === wrongVersion)!.reason).toMatch(/unsupported schemaVersion 99/);
    await store.add(settings(noKey), none, { name: 'another', source: src });
    store.rename('good', 'better');
    expect([readFileSync(damaged), readFileSync(wrongVersion)]).toEqual(before);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps tls-crypt-v2 and tls-auth keys in the secret store only, and removes them with the profile', async () => {
    const v2 = checkProfile(`client\nremote h\nauth-user-pass\n<ca>\n${pki('ca.crt')}</ca>\n<tls-crypt-v2>\n${pki('tls-crypt-v2-client.key')}</tls-crypt-v2>\n`);
    expect(v2.errors).toEqual([]);
    const p = await store.add(settings(v2), v2.secrets, { name: 'v2', source: src });
    const json = readFileSync(join(dir, `${p.id}.json`), 'utf8');
    expect(json).not.toContain('OpenVPN tls-crypt-v2 client key');
    expect(JSON.parse(json)).toMatchObject({ tlsCryptV2: true, tlsCrypt: false, tlsAuth: null });
    expect(await readStaticKeys(secrets, p)).toEqual({ 'tls-auth': null, 'tls-crypt': null, 'tls-crypt-v2': v2.secrets.tlsCryptV2 });
    await store.remove(p.id);
    expect(secrets.entries.size).toBe(0);
  });

  it('moves the static keys of a profile stored before they were secrets, and rewrites its JSON', async () => {
    const ta = checkProfile(`client\nremote h\nauth-user-pass\nkey-direction 1\n<ca>\n${pki('ca.crt')}</ca>\n<tls-auth>\n${pki('ta.key')}</tls-auth>\n`);
    const p = await store.add(settings(ta), NO_SECRETS, { name: 'old', source: src });
    // The shape written before this change: the key text in the JSON.
    const file = join(dir, `${p.id}.json`);
    writeFileSync(file, JSON.stringify({ ...p, tlsAuth: { key: ta.secrets.tlsAuth, direction: 1 } }));
    const fresh = new ProfileStore(dir, secrets);
    const read = fresh.resolve(p.id);
    expect(read.tlsAuth).toEqual({ direction: 1 });
    expect(await fresh.moveLegacyKeys()).toEqual([p.id]);
    expect(readFileSync(file, 'utf8')).not.toContain('OpenVPN Static key');
    expect(JSON.parse(readFileSync(file, 'utf8')).tlsAuth).toEqual({ direction: 1 });
    expect((await readStaticKeys(secrets, read))['tls-auth']).toBe(ta.secrets.tlsAuth);
    expect(await new ProfileStore(dir, secrets).moveLegacyKeys()).toEqual([]);
  });

  it('reads the mssfix of a profile stored before mssfix had a mode as UDP payload bytes', async () => {
    const p = await store.add(settings(noKey), NO_SECRETS, { name: 'old mss', source: src });
    writeFileSync(join(dir, `${p.id}.json`), JSON.stringify({ ...p, mssFix: 1300 }));
    expect(new ProfileStore(dir, secrets).resolve(p.id).mssFix).toEqual({ max: 1300, mode: 'payload' });
  });

  it('leaves an old profile\'s JSON alone when the secret store cannot keep keys, but still connects with them', async () => {
    const ta = checkProfile(`client\nremote h\nauth-user-pass\n<ca>\n${pki('ca.crt')}</ca>\n<tls-crypt>\n${pki('ta.key')}</tls-crypt>\n`);
    const p = await store.add(settings(ta), NO_SECRETS, { name: 'old', source: src });
    const file = join(dir, `${p.id}.json`);
    const legacy = JSON.stringify({ ...p, tlsCrypt: ta.secrets.tlsCrypt });
    writeFileSync(file, legacy);
    const memory = new MemoryStore('no keyring');
    const ephemeral = new ProfileStore(dir, memory);
    expect(await ephemeral.moveLegacyKeys()).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe(legacy);
    expect((await readStaticKeys(memory, ephemeral.resolve(p.id)))['tls-crypt']).toBe(ta.secrets.tlsCrypt);
  });
});
