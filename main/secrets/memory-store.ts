// The in-memory SecretStore: secrets live only as long as this process. Used by tests, by
// `CAUSEWAY_SECRET_STORE=memory`, and as the fallback when no keyring answers — in which case
// `persistent` is false and `reason` says why, so callers that must keep a secret refuse.
import type { SecretStore } from './secret-store.js';

export class MemoryStore implements SecretStore {
  readonly backend = 'memory' as const;
  readonly persistent = false;
  readonly reason: string;
  private readonly secrets = new Map<string, string>();

  constructor(reason = 'secrets are kept in memory for this process only') {
    this.reason = reason;
  }

  async get(account: string): Promise<string | null> {
    return this.secrets.get(account) ?? null;
  }

  async set(account: string, secret: string): Promise<void> {
    this.secrets.set(account, secret);
  }

  async delete(account: string): Promise<void> {
    this.secrets.delete(account);
  }
}
