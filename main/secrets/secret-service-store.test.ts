// Runs against a real Secret Service: gnome-keyring on a private D-Bus session bus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { startTestKeyring, type TestKeyring } from '../../test/support/keyring.js';
import { SecretServiceStore, probeSecretService } from './secret-service-store.js';
import { openSecretStore } from './index.js';

let keyring: TestKeyring;
beforeAll(async () => {
  keyring = await startTestKeyring();
}, 30_000);
afterAll(async () => {
  await keyring?.stop();
});

describe('SecretServiceStore on gnome-keyring', () => {
  it('stores, reads back, overwrites and deletes a secret', async () => {
    const store = new SecretServiceStore(keyring.env);
    const account = 'profile/p1/password';
    expect(await store.get(account)).toBeNull();
    await store.set(account, 'correct horse battery staple');
    expect(await store.get(account)).toBe('correct horse battery staple');
    await store.set(account, 'second');
    expect(await store.get(account)).toBe('second');
    await store.delete(account);
    expect(await store.get(account)).toBeNull();
    await store.delete(account); // deleting twice is not an error
  });

  it('keeps a multi-line PEM private key byte for byte, separate per account', async () => {
    const store = new SecretServiceStore(keyring.env);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await store.set('profile/a/key', pem);
    await store.set('profile/b/key', 'other\nlines\n');
    expect(await store.get('profile/a/key')).toBe(pem);
    expect(await store.get('profile/b/key')).toBe('other\nlines\n');
    await store.delete('profile/a/key');
    await store.delete('profile/b/key');
  });

  it('is what openSecretStore picks when the session bus has a Secret Service', async () => {
    const store = await openSecretStore({ env: keyring.env, platform: 'linux' });
    expect(store.backend).toBe('secret-service');
    expect(store.persistent).toBe(true);
    // The CLI and the app open the store independently; they must see each other's secrets.
    const other = await openSecretStore({ env: keyring.env, platform: 'linux' });
    await store.set('profile/shared/password', 'seen-by-both');
    expect(await other.get('profile/shared/password')).toBe('seen-by-both');
    await other.delete('profile/shared/password');
  });
});

describe('openSecretStore without a keyring', () => {
  it('falls back to memory and says why when there is no session bus', async () => {
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: '' };
    expect(await probeSecretService(env)).toMatch(/no D-Bus session bus/);
    const store = await openSecretStore({ env, platform: 'linux' });
    expect(store.backend).toBe('memory');
    expect(store.persistent).toBe(false);
    expect(store.reason).toMatch(/no D-Bus session bus.*in memory/);
  });

  it('falls back to memory when the bus address points nowhere', async () => {
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/causeway-bus' };
    const store = await openSecretStore({ env, platform: 'linux' });
    expect(store.persistent).toBe(false);
    expect(store.reason).toMatch(/Secret Service is not available/);
  });

  it('honours CAUSEWAY_SECRET_STORE=memory and rejects unknown values', async () => {
    const store = await openSecretStore({ env: { ...keyring.env, CAUSEWAY_SECRET_STORE: 'memory' }, platform: 'linux' });
    expect(store.backend).toBe('memory');
    expect(store.reason).toMatch(/CAUSEWAY_SECRET_STORE=memory/);
    await expect(openSecretStore({ env: { CAUSEWAY_SECRET_STORE: 'plaintext' } })).rejects.toThrow(
      /must be "auto" or "memory"/,
    );
  });
});
