// openSecretStore(): picks where Causeway keeps secrets (private keys, saved passwords, tokens,
// tls-auth/tls-crypt/tls-crypt-v2 keys).
//
//   Linux (and other Unix desktops)  the Secret Service on the D-Bus session bus (secret-tool)
//   macOS                            the login Keychain (security)
//   Windows                          Credential Manager (PowerShell + advapi32)
//
// The CLI and the Electron app both call this, so they see the same secrets. When no keyring
// answers (no session bus, no Secret Service, no secret-tool), secrets go to a passphrase-encrypted
// file instead (file-store.ts explains the design); when a keyring answers later, what the file
// holds moves into it (moving-store.ts).
//
// CAUSEWAY_SECRET_STORE=file forces the encrypted file, =memory an ephemeral in-memory store (tests,
// trying things out); =auto (or unset) chooses as above.
import { homedir } from 'node:os';
import type { SecretStore } from './secret-store.js';
import { MemoryStore } from './memory-store.js';
import { SecretServiceStore, probeSecretService } from './secret-service-store.js';
import { KeychainStore } from './keychain-store.js';
import { WinCredStore } from './wincred-store.js';
import { FileSecretStore, type PassphraseSource } from './file-store.js';
import { KeyringTakingOverFile } from './moving-store.js';

export type { SecretStore } from './secret-store.js';
export type { PassphraseSource } from './file-store.js';

export interface OpenSecretStoreOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
  /** Asks the user for the file store's passphrase (terminal, dialog); absent: only CAUSEWAY_SECRET_PASSPHRASE. */
  askPassphrase?: PassphraseSource;
}

/** The passphrase from CAUSEWAY_SECRET_PASSPHRASE (scripts), else asked, else a clear refusal. */
function passphraseSource(env: NodeJS.ProcessEnv, ask: PassphraseSource | undefined, why: string): PassphraseSource {
  return async (request) => {
    const fromEnv = env.CAUSEWAY_SECRET_PASSPHRASE;
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    if (ask) return ask(request);
    throw new Error(
      `${why}, so Causeway keeps secrets in the encrypted file ${request.path}, which needs a passphrase: run this in a terminal or set CAUSEWAY_SECRET_PASSPHRASE`,
    );
  };
}

/** Where the secrets are, in words, for the notice at import, `causeway show` and the app. */
export function describeSecretStore(store: SecretStore): string {
  if (store instanceof FileSecretStore) {
    return `the encrypted file ${store.path}${store.chosenBecause ? ` (${store.chosenBecause})` : ''}`;
  }
  if (!store.persistent) return `memory only: ${store.reason ?? 'secrets are lost when this program exits'}`;
  return { 'secret-service': 'the Secret Service keyring', keychain: 'the login Keychain', wincred: 'Windows Credential Manager' }[
    store.backend as 'secret-service' | 'keychain' | 'wincred'
  ] ?? store.backend;
}

export async function openSecretStore(options: OpenSecretStoreOptions = {}): Promise<SecretStore> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const home = options.home ?? (env.HOME || homedir());
  const choice = env.CAUSEWAY_SECRET_STORE ?? 'auto';
  const fileStore = (why: string) =>
    new FileSecretStore(FileSecretStore.defaultPath(env, home), passphraseSource(env, options.askPassphrase, why), why);
  if (choice === 'memory') {
    return new MemoryStore('CAUSEWAY_SECRET_STORE=memory: secrets are kept in memory for this process only');
  }
  if (choice === 'file') return fileStore('CAUSEWAY_SECRET_STORE=file');
  if (choice !== 'auto') {
    throw new Error(`CAUSEWAY_SECRET_STORE must be "auto", "file" or "memory", not ${JSON.stringify(choice)}`);
  }
  if (platform === 'darwin') return new KeychainStore();
  if (platform === 'win32') return new WinCredStore();
  const unavailable = await probeSecretService(env);
  if (unavailable !== null) return fileStore(unavailable);
  const keyring = new SecretServiceStore(env);
  const leftover = fileStore('no keyring answered earlier');
  if (leftover.accounts().length === 0) return keyring;
  const store = new KeyringTakingOverFile(keyring, leftover);
  // With the passphrase at hand, move everything now; otherwise each secret moves when first read.
  if (env.CAUSEWAY_SECRET_PASSPHRASE) await store.moveAll();
  return store;
}
