// openSecretStore(): picks where Causeway keeps secrets (private keys, saved passwords, tokens).
//
//   Linux (and other Unix desktops)  the Secret Service on the D-Bus session bus (secret-tool)
//   macOS                            the login Keychain (security)
//   Windows                          Credential Manager (PowerShell + advapi32)
//
// The CLI and the Electron app both call this, so they see the same secrets. When no secure
// backend answers, secrets are kept in memory for this process only: the store says so
// (persistent=false, reason=why) and callers that must persist (importing a private key,
// "remember password") refuse with that reason instead of silently losing data.
//
// CAUSEWAY_SECRET_STORE=memory forces the ephemeral memory store (tests, dry runs);
// CAUSEWAY_SECRET_STORE=auto (or unset) chooses as above.
import type { SecretStore } from './secret-store.js';
import { MemoryStore } from './memory-store.js';
import { SecretServiceStore, probeSecretService } from './secret-service-store.js';
import { KeychainStore } from './keychain-store.js';
import { WinCredStore } from './wincred-store.js';

export type { SecretStore } from './secret-store.js';

export interface OpenSecretStoreOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

export async function openSecretStore(options: OpenSecretStoreOptions = {}): Promise<SecretStore> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const choice = env.CAUSEWAY_SECRET_STORE ?? 'auto';
  if (choice === 'memory') {
    return new MemoryStore('CAUSEWAY_SECRET_STORE=memory: secrets are kept in memory for this process only');
  }
  if (choice !== 'auto') {
    throw new Error(`CAUSEWAY_SECRET_STORE must be "auto" or "memory", not ${JSON.stringify(choice)}`);
  }
  if (platform === 'darwin') return new KeychainStore();
  if (platform === 'win32') return new WinCredStore();
  const unavailable = await probeSecretService(env);
  if (unavailable === null) return new SecretServiceStore(env);
  return new MemoryStore(
    `${unavailable}; secrets are kept in memory for this process only (start a keyring such as gnome-keyring or KWallet to save them)`,
  );
}
