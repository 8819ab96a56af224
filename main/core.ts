// The composition root of Causeway's unprivileged core, shared by the `causeway` CLI and the
// Electron shell (main/electron). It opens the stores the same way for both, so the app and the
// CLI see the same profiles, certificates and saved secrets, and wires the connection manager to
// a helper.
//
//   const core = await openCore({ prompter });          // Electron: pass resourcesPath, openUrl
//   core.profiles.list() / .resolve(idOrName)           ProfileStore (main/profiles/store.ts)
//   core.certs.importPkcs12(bytes, pw) / .attach(c, p)  CertStore (main/certs/store.ts)
//   core.connections.on(event => …)                     state, stats, pushed, banner, notice, log
//   core.connections.connect(idOrName[, {killSwitch}])  starts a session, returns its snapshot
//   core.connections.disconnect(idOrName)               resolves when the session is idle
//   core.connections.list() / .get(p) / .logLines(p)    snapshots (state from app/connection)
//   core.readLog(profile)                               the stored, redacted log of a profile
//   await core.shutdown()                               disconnects everything, stops the helper
//
// Prompts (credentials, MFA codes, challenges) arrive through the Prompter you pass; answer them
// by resolving its promise. Nothing here imports Electron.
import { join } from 'node:path';
import type { SecretStore } from './secrets/secret-store.js';
import { openSecretStore, type PassphraseSource } from './secrets/index.js';
import { configDir, profilesDir } from './profiles/paths.js';
import { ProfileStore } from './profiles/store.js';
import { LeakDefaults } from './profiles/leak-defaults.js';
import { CertStore } from './certs/store.js';
import { connectHelper, type HelperOptions } from './helper/connect.js';
import { locateHelper } from './helper/locate.js';
import { ConnectionManager, type ConnectionPolicy } from './connection/manager.js';
import type { LoginFlows } from './connection/login-hooks.js';
import type { Prompter } from './connection/prompter.js';
import { Redactor } from './connection/redact.js';
import { logDir as defaultLogDir, readProfileLog, SessionLog } from './connection/session-log.js';

export const VERSION = '0.1.0';

export interface CoreOptions {
  /** Answers credential and challenge requests (terminal for the CLI, dialogs for the app). */
  prompter: Prompter;
  env?: NodeJS.ProcessEnv;
  /** Home directory override (tests). */
  home?: string;
  /** Causeway's config folder (profiles/, certificates/); default: configDir() — Electron's userData. */
  configDir?: string;
  /** Per-profile log folder; default logDir() ($XDG_STATE_HOME/causeway/logs); null keeps logs in memory. */
  logDir?: string | null;
  /** Defaults to openSecretStore(): the OS keyring, else the encrypted file store. */
  secrets?: SecretStore;
  /** Asks for the file store's passphrase when no keyring answers (terminal, dialog). */
  askPassphrase?: PassphraseSource;
  /** How to reach the helper: wrap (e.g. `ip netns exec ns`), helperPath, socketPath. */
  helper?: Omit<HelperOptions, 'onLog' | 'clientName'>;
  /** Electron's process.resourcesPath in a packaged app (to find the bundled helper). */
  resourcesPath?: string | null;
  /** Federated login hooks (main/auth). */
  loginFlows?: LoginFlows;
  /** Opens a URL in the browser for web sign-in (CLI: xdg-open/open/start; app: shell.openExternal). */
  openUrl?: (url: string) => Promise<void>;
  policy?: Partial<ConnectionPolicy>;
  /** e.g. "causeway-cli" or "causeway-app", sent to the helper. */
  clientName?: string;
}

export interface Core {
  readonly secrets: SecretStore;
  readonly profiles: ProfileStore;
  readonly certs: CertStore;
  readonly connections: ConnectionManager;
  /** Where per-profile logs and the helper log are written (null: memory only). */
  readonly logDir: string | null;
  /** The stored redacted log of a profile (this and earlier processes), oldest first. */
  readLog(profileIdOrName: string): string[];
  shutdown(): Promise<void>;
}

export async function openCore(options: CoreOptions): Promise<Core> {
  const env = options.env ?? process.env;
  const platformEnv = { env, ...(options.home ? { home: options.home } : {}) };
  const secrets = options.secrets ?? (await openSecretStore({ env, ...(options.home ? { home: options.home } : {}), askPassphrase: options.askPassphrase }));
  const config = options.configDir ?? configDir(platformEnv);
  // New profiles get the leak protection chosen in the app's Settings (the same file for the CLI).
  const profiles = new ProfileStore(options.configDir ? join(config, 'profiles') : profilesDir(platformEnv), secrets, LeakDefaults.inDir(config));
  const certs = new CertStore(join(config, 'certificates'), secrets, profiles);
  // Older profiles kept tls-auth/tls-crypt keys in their JSON; a failure leaves them readable there.
  await profiles.moveLegacyKeys().catch(() => undefined);
  const logDir = options.logDir === undefined ? defaultLogDir(options.home ? { ...env, HOME: options.home } : env) : options.logDir;
  // Helper stderr: it promises never to log secrets; redact anyway in case of a bug.
  const helperLog = new SessionLog(new Redactor(), logDir ? join(logDir, '_helper.log') : null);
  // CAUSEWAY_HELPER_WRAP (e.g. "pkexec" or "sudo -n") runs the helper with privileges when no
  // system service is installed; tests wrap the whole CLI in `ip netns exec` instead.
  const wrapFromEnv = env.CAUSEWAY_HELPER_WRAP?.trim() ? env.CAUSEWAY_HELPER_WRAP.trim().split(/\s+/) : undefined;
  const helperOptions = { ...(wrapFromEnv ? { wrap: wrapFromEnv } : {}), ...options.helper };
  const connections = new ConnectionManager({
    profiles,
    secrets,
    prompter: options.prompter,
    connectHelper: () =>
      connectHelper({
        ...helperOptions,
        env: helperOptions.env ?? env,
        helperPath: helperOptions.helperPath ?? locateHelper({ env, resourcesPath: options.resourcesPath ?? null }),
        onLog: (line) => helperLog.write('helper', 'log', line),
        clientName: `${options.clientName ?? 'causeway'} ${VERSION}`,
      }),
    loginFlows: options.loginFlows,
    openUrl: options.openUrl,
    logDir,
    policy: options.policy,
    guiVersion: `causeway ${VERSION}`,
  });
  return {
    secrets,
    profiles,
    certs,
    connections,
    logDir,
    readLog: (p) => (logDir ? readProfileLog(logDir, profiles.resolve(p).id) : connections.logLines(p)),
    shutdown: () => connections.shutdown(),
  };
}
