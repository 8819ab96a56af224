// The SecretStore contract. Backends (OS keyring via Secret Service / Keychain / Windows
// Credential Manager, the passphrase-encrypted file for machines without a keyring, in-memory)
// live beside this file.
// Accounts are namespaced strings such as "profile/<id>/key" or "profile/<id>/password".

export interface SecretStore {
  /** Which backend holds the secrets, for `causeway status` and the Settings view. */
  readonly backend: 'secret-service' | 'keychain' | 'wincred' | 'safe-storage' | 'file' | 'memory';
  /** False when secrets only live for this process (no secure backend was found). */
  readonly persistent: boolean;
  /** Why secrets are not persisted, when `persistent` is false. */
  readonly reason: string | null;
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<void>;
}
