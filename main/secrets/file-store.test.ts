// The encrypted file store, with no keyring anywhere: its files, its encryption, its passphrase.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { FileSecretStore, FileStoreError, type PassphraseSource } from './file-store.js';
import { openSecretStore, describeSecretStore } from './index.js';

let home: string;
let path: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'cw-file-store-'));
  path = FileSecretStore.defaultPath({}, home);
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** A passphrase source that counts how often it was asked. */
function answering(passphrase: string | null) {
  const asked: { creating: boolean }[] = [];
  const source: PassphraseSource = async (r) => {
    asked.push({ creating: r.creating });
    return passphrase;
  };
  return { source, asked };
}

describe('FileSecretStore', () => {
  it('keeps secrets encrypted in a 0600 file in a 0700 folder, and reads them back', async () => {
    const { source, asked } = answering('correct horse battery staple');
    const store = new FileSecretStore(path, source);
    expect(path).toBe(join(home, '.local', 'share', 'causeway', 'secrets', 'secrets.json'));
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await store.set('profile/a/key', pem);
    await store.set('profile/a/password', 'hunter2-but-longer');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path)).mode & 0o777).toBe(0o700);
    const onDisk = readFileSync(path, 'utf8');
    for (const line of pem.split('\n').filter((l) => l.length > 16)) expect(onDisk).not.toContain(line);
    expect(onDisk).not.toContain('hunter2');
    expect(onDisk).not.toContain(Buffer.from('hunter2-but-longer').toString('base64').slice(0, 12));
    expect(await store.get('profile/a/key')).toBe(pem);
    // The passphrase is asked once per process (when creating), then the key is kept in memory.
    expect(asked).toEqual([{ creating: true }]);

    // Another process: asks once, to unlock.
    const again = answering('correct horse battery staple');
    const other = new FileSecretStore(path, again.source);
    expect(other.accounts().sort()).toEqual(['profile/a/key', 'profile/a/password']);
    expect(await other.get('profile/a/password')).toBe('hunter2-but-longer');
    expect(await other.get('profile/none')).toBeNull();
    expect(again.asked).toEqual([{ creating: false }]);
  });

  it('refuses a wrong passphrase, a missing one, and an empty one, with the reason', async () => {
    await new FileSecretStore(path, answering('right passphrase').source).set('profile/a/password', 'pw-123456');
    await expect(new FileSecretStore(path, answering('wrong passphrase').source).get('profile/a/password')).rejects.toThrow(
      /wrong passphrase for Causeway's secret file/,
    );
    await expect(new FileSecretStore(path, answering(null).source).get('profile/a/password')).rejects.toThrow(/no passphrase was given/);
    rmSync(path);
    await expect(new FileSecretStore(path, answering('').source).set('x', 'y')).rejects.toThrow(/cannot be empty/);
  });

  it('detects an item moved to another account or altered', async () => {
    const store = new FileSecretStore(path, answering('pass phrase').source);
    await store.set('profile/a/password', 'secret-of-a');
    await store.set('profile/b/password', 'secret-of-b');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    file.items['profile/b/password'] = file.items['profile/a/password'];
    writeFileSync(path, JSON.stringify(file), { mode: 0o600 });
    await expect(new FileSecretStore(path, answering('pass phrase').source).get('profile/b/password')).rejects.toThrow(/was altered/);
  });

  it('refuses a file or folder other users can read, and a damaged file, leaving them untouched', async () => {
    const store = new FileSecretStore(path, answering('pass phrase').source);
    await store.set('profile/a/password', 'pw-123456');
    chmodSync(path, 0o644);
    expect(() => store.accounts()).toThrow(/accessible to other users \(mode 644\); run chmod 600/);
    chmodSync(path, 0o600);
    chmodSync(dirname(path), 0o755);
    await expect(store.get('profile/a/password')).rejects.toThrow(FileStoreError);
    chmodSync(dirname(path), 0o700);
    writeFileSync(path, '{"format": "causeway-secrets", "version": 1, "kdf"');
    expect(() => store.accounts()).toThrow(/damaged \(not JSON\); it was left untouched/);
    expect(readFileSync(path, 'utf8')).toBe('{"format": "causeway-secrets", "version": 1, "kdf"');
  });

  it('deletes without the passphrase, and removes the file with its last secret', async () => {
    await new FileSecretStore(path, answering('pass phrase').source).set('profile/a/key', 'k-123456');
    const noPassphrase = new FileSecretStore(path, async () => {
      throw new Error('must not ask');
    });
    await noPassphrase.delete('profile/other');
    await noPassphrase.delete('profile/a/key');
    expect(existsSync(path)).toBe(false);
  });
});

describe('openSecretStore without any keyring (no session bus)', () => {
  const noBus = () => ({ HOME: home, PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: '' });

  it('chooses the file store, says why, and takes the passphrase from CAUSEWAY_SECRET_PASSPHRASE', async () => {
    const store = await openSecretStore({ env: { ...noBus(), CAUSEWAY_SECRET_PASSPHRASE: 'from the environment' }, platform: 'linux' });
    expect(store.backend).toBe('file');
    expect(store.persistent).toBe(true);
    expect(describeSecretStore(store)).toMatch(/^the encrypted file .*secrets\.json \(no D-Bus session bus/);
    await store.set('profile/a/password', 'pw-from-env');
    const reopened = await openSecretStore({ env: { ...noBus(), CAUSEWAY_SECRET_PASSPHRASE: 'from the environment' }, platform: 'linux' });
    expect(await reopened.get('profile/a/password')).toBe('pw-from-env');
  });

  it('asks through the caller when no passphrase is in the environment, and refuses clearly when it cannot ask', async () => {
    const { source, asked } = answering('typed');
    const store = await openSecretStore({ env: noBus(), platform: 'linux', askPassphrase: source });
    await store.set('profile/a/password', 'pw-typed');
    expect(asked).toEqual([{ creating: true }]);
    const cannotAsk = await openSecretStore({ env: noBus(), platform: 'linux' });
    await expect(cannotAsk.get('profile/a/password')).rejects.toThrow(
      /no D-Bus session bus.*encrypted file .* needs a passphrase: run this in a terminal or set CAUSEWAY_SECRET_PASSPHRASE/,
    );
  });

  it('CAUSEWAY_SECRET_STORE=file and =memory are honoured; other values are refused', async () => {
    expect((await openSecretStore({ env: { ...noBus(), CAUSEWAY_SECRET_STORE: 'file' }, platform: 'linux' })).backend).toBe('file');
    expect((await openSecretStore({ env: { ...noBus(), CAUSEWAY_SECRET_STORE: 'memory' }, platform: 'linux' })).backend).toBe('memory');
    await expect(openSecretStore({ env: { CAUSEWAY_SECRET_STORE: 'plaintext' } })).rejects.toThrow(/must be "auto", "file" or "memory"/);
  });
});
