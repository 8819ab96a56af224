// The Credential Manager backend's splitting of large secrets, over an in-memory credential API
// (the PowerShell calls themselves only run on Windows).
import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { WinCredStore, WINCRED_MAX_BLOB_BYTES, type CredentialApi } from './wincred-store.js';

function memoryCredentials() {
  const creds = new Map<string, Buffer>();
  const api: CredentialApi = {
    read: async (t) => creds.get(t) ?? null,
    write: async (t, b) => {
      if (b.length > WINCRED_MAX_BLOB_BYTES) throw new Error(`blob of ${b.length} bytes is over the limit`);
      creds.set(t, Buffer.from(b));
    },
    delete: async (t) => void creds.delete(t),
  };
  return { api, creds };
}

describe('WinCredStore', () => {
  it('keeps a small secret in one credential', async () => {
    const { api, creds } = memoryCredentials();
    const store = new WinCredStore(api);
    await store.set('profile/p/password', 'pässword');
    expect([...creds.keys()]).toEqual(['causeway:profile/p/password']);
    expect(await store.get('profile/p/password')).toBe('pässword');
    expect(await store.get('profile/p/other')).toBeNull();
  });

  it('splits an RSA-4096 key over several credentials and shrinks back cleanly', async () => {
    const { api, creds } = memoryCredentials();
    const store = new WinCredStore(api);
    const pem = generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(pem.length).toBeGreaterThan(WINCRED_MAX_BLOB_BYTES);
    await store.set('profile/p/key', pem);
    expect(creds.get('causeway:profile/p/key')!.toString()).toBe('chunks:2');
    expect(await store.get('profile/p/key')).toBe(pem);
    await store.set('profile/p/key', 'short now');
    expect([...creds.keys()]).toEqual(['causeway:profile/p/key']);
    expect(await store.get('profile/p/key')).toBe('short now');
    await store.set('profile/p/key', pem);
    await store.delete('profile/p/key');
    expect(creds.size).toBe(0);
  });

  it('stores a secret that happens to look like a chunk header without confusing it', async () => {
    const { api } = memoryCredentials();
    const store = new WinCredStore(api);
    await store.set('a', 'chunks:3');
    expect(await store.get('a')).toBe('chunks:3');
  });
});
