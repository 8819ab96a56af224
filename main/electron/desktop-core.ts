// Builds the desktop app's core from main's real parts: profile store, certificate store,
// secret store, connection manager and helper. Electron-free, so the e2e tests run exactly this.
// (The shared composition root main/core.ts, when it lands, should replace the wiring here.)
import { join } from 'node:path';
import { CertStore } from '../certs/store';
import { ConnectionManager, passwordAccount } from '../connection/manager';
import type { LoginFlows } from '../connection/login-flows';
import type { Prompter } from '../connection/prompter';
import { connectHelper, type HelperOptions } from '../helper/connect';
import { importOvpnBytes, importOvpnFile } from '../profiles/importer';
import { ProfileStore } from '../profiles/store';
import type { SecretStore } from '../secrets/secret-store';
import type { DesktopCore } from './desktop-service';
import { desktopCerts } from './desktop-certs';

export interface DesktopCoreOptions {
  /** Causeway's config folder (profiles/, certificates/ under it); the CLI uses the same one. */
  configDir: string;
  secrets: SecretStore;
  prompter: Prompter;
  openUrl(url: string): Promise<void>;
  helper: HelperOptions;
  loginFlows?: LoginFlows;
  /** Per-profile log files; null keeps logs in memory. */
  logDir: string | null;
  guiVersion: string;
}

export interface OpenedCore {
  core: DesktopCore;
  /** Disconnects every session and stops the helper. */
  shutdown(): Promise<void>;
}

export function openDesktopCore(o: DesktopCoreOptions): OpenedCore {
  const profiles = new ProfileStore(join(o.configDir, 'profiles'), o.secrets);
  const certs = new CertStore(join(o.configDir, 'certificates'), o.secrets, profiles);
  const connections = new ConnectionManager({
    profiles,
    secrets: o.secrets,
    prompter: o.prompter,
    connectHelper: () => connectHelper(o.helper),
    openUrl: o.openUrl,
    logDir: o.logDir,
    guiVersion: o.guiVersion,
    ...(o.loginFlows ? { loginFlows: o.loginFlows } : {}),
  });
  return {
    core: {
      profiles,
      importProfile: (bytes, name) => importOvpnBytes(profiles, bytes, { name }),
      importProfileFile: (path) => importOvpnFile(profiles, path),
      connections,
      secrets: o.secrets,
      passwordAccount,
      certs: desktopCerts(certs),
    },
    shutdown: () => connections.shutdown(),
  };
}
