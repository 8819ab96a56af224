// A keyring that takes over what the file store kept while no keyring answered. Secrets are moved
// one by one: a secret still in the file is moved into the keyring the first time it is read (which
// asks for the file's passphrase once), and a secret written or deleted is removed from the file
// (which needs no passphrase). moveAll() moves everything at once when the passphrase is at hand.
// When the last item has left, the file store removes its file.
import type { SecretStore } from './secret-store.js';
import type { FileSecretStore } from './file-store.js';

export class KeyringTakingOverFile implements SecretStore {
  readonly persistent = true;
  readonly reason = null;

  constructor(
    private readonly keyring: SecretStore,
    private readonly file: FileSecretStore,
  ) {}

  get backend(): SecretStore['backend'] {
    return this.keyring.backend;
  }

  async get(account: string): Promise<string | null> {
    const inKeyring = await this.keyring.get(account);
    if (inKeyring !== null) {
      await this.file.delete(account);
      return inKeyring;
    }
    if (!this.file.accounts().includes(account)) return null;
    const secret = await this.file.get(account);
    if (secret !== null) await this.move(account, secret);
    return secret;
  }

  async set(account: string, secret: string): Promise<void> {
    await this.keyring.set(account, secret);
    await this.file.delete(account);
  }

  async delete(account: string): Promise<void> {
    await this.keyring.delete(account);
    await this.file.delete(account);
  }

  /** Moves every secret of the file into the keyring; returns how many were moved. */
  async moveAll(): Promise<number> {
    let moved = 0;
    for (const account of this.file.accounts()) {
      const secret = await this.file.get(account);
      if (secret !== null) {
        await this.move(account, secret);
        moved++;
      }
    }
    return moved;
  }

  /** Keyring first, then the file: a failure in between leaves the secret in both, never in neither. */
  private async move(account: string, secret: string): Promise<void> {
    await this.keyring.set(account, secret);
    await this.file.delete(account);
  }
}
