// A SecretStore for tests that claims to persist (as a keyring would) and lets the test look
// inside. Real keyring behaviour is covered by main/secrets' own tests against gnome-keyring.
import type { SecretStore } from '../../../main/secrets/secret-store.js';

export interface InspectableSecretStore extends SecretStore {
  readonly entries: Map<string, string>;
  /** When set, set() of a matching account fails (to test rollbacks). */
  failOn: RegExp | null;
}

export function keepingSecretStore(): InspectableSecretStore {
  const entries = new Map<string, string>();
  return {
    backend: 'secret-service',
    persistent: true,
    reason: null,
    entries,
    failOn: null,
    async get(account) {
      return entries.get(account) ?? null;
    },
    async set(account, secret) {
      if (this.failOn?.test(account)) throw new Error('keyring locked');
      entries.set(account, secret);
    },
    async delete(account) {
      entries.delete(account);
    },
  };
}
