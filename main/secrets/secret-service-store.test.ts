// Runs against a real Secret Service: gnome-keyring on a private D-Bus session bus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { startTestKeyring, type TestKeyring } from '../../test/support/keyring.js';
import { SecretServiceStore, probeSecretService } from './secret-service-store.js';
import { describeSecretStore, openSecretStore } from './index.js';
import { FileSecretStore } from './file-store.js';
import { existsSync } from 'node:fs';

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
  it('falls back to the encrypted file store and says why when there is no session bus', async () => {
    const env = { ...keyring.env, DBUS_SESSION_BUS_ADDRESS: '' };
    expect(await probeSecretService(env)).toMatch(/no D-Bus session bus/);
    const store = await openSecretStore({ env, platform: 'linux' });
    expect(store.backend).toBe('file');
    expect(describeSecretStore(store)).toMatch(/encrypted file .* \(no D-Bus session bus/);
  });

  it('falls back to the file store when the bus address points nowhere', async () => {
    const env = { ...keyring.env, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/causeway-bus' };
    const store = await openSecretStore({ env, platform: 'linux' });
    expect(store.backend).toBe('file');
    expect(describeSecretStore(store)).toMatch(/Secret Service is not available/);
  });

  it('honours CAUSEWAY_SECRET_STORE=memory and =file even with a keyring', async () => {
    const store = await openSecretStore({ env: { ...keyring.env, CAUSEWAY_SECRET_STORE: 'memory' }, platform: 'linux' });
    expect(store.backend).toBe('memory');
    expect(store.reason).toMatch(/CAUSEWAY_SECRET_STORE=memory/);
    expect((await openSecretStore({ env: { ...keyring.env, CAUSEWAY_SECRET_STORE: 'file' }, platform: 'linux' })).backend).toBe('file');
  });
});

describe('a keyring that appears after the file store was used', () => {
  const passphrase = 'file store passphrase';

  it('moves every secret of the file into the keyring at once when the passphrase is at hand', async () => {
    const noBus = { ...keyring.env, DBUS_SESSION_BUS_ADDRESS: '', CAUSEWAY_SECRET_PASSPHRASE: passphrase };
    const file = await openSecretStore({ env: noBus, platform: 'linux' });
    await file.set('profile/moved/key', 'key-kept-in-the-file');
    await file.set('profile/moved/password', 'password-kept-in-the-file');
    const path = FileSecretStore.defaultPath(keyring.env, keyring.env.HOME!);
    expect(existsSync(path)).toBe(true);

    const store = await openSecretStore({ env: { ...keyring.env, CAUSEWAY_SECRET_PASSPHRASE: passphrase }, platform: 'linux' });
    expect(store.backend).toBe('secret-service');
    expect(existsSync(path)).toBe(false);
    const direct = new SecretServiceStore(keyring.env);
    expect(await direct.get('profile/moved/key')).toBe('key-kept-in-the-file');
    expect(await direct.get('profile/moved/password')).toBe('password-kept-in-the-file');
    await direct.delete('profile/moved/key');
    await direct.delete('profile/moved/password');
  });

  it('otherwise moves each secret the first time it is read, asking for the passphrase once', async () => {
    const noBus = { ...keyring.env, DBUS_SESSION_BUS_ADDRESS: '', CAUSEWAY_SECRET_PASSPHRASE: passphrase };
    const file = await openSecretStore({ env: noBus, platform: 'linux' });
    await file.set('profile/lazy/key', 'lazy-key-in-file');
    await file.set('profile/lazy/password', 'lazy-password-in-file');
    let asked = 0;
    const store = await openSecretStore({
      env: keyring.env,
      platform: 'linux',
      askPassphrase: async () => {
        asked++;
        return passphrase;
      },
    });
    expect(asked).toBe(0); // opening asks nothing
    expect(await store.get('profile/lazy/key')).toBe('lazy-key-in-file');
    expect(await new SecretServiceStore(keyring.env).get('profile/lazy/key')).toBe('lazy-key-in-file');
    const path = FileSecretStore.defaultPath(keyring.env, keyring.env.HOME!);
    expect(new FileSecretStore(path, async () => null).accounts()).toEqual(['profile/lazy/password']);
    // A new value goes to the keyring and the stale one leaves the file without a passphrase.
    await store.set('profile/lazy/password', 'replaced-in-keyring');
    expect(existsSync(path)).toBe(false);
    expect(asked).toBe(1);
    await store.delete('profile/lazy/key');
    await store.delete('profile/lazy/password');
  });
});
