// The desktop app's view of main's core (main/core.ts openCore): the same stores and connection
// manager the CLI uses, plus the two import paths the app has (bytes from the renderer's picker
// or a drop, a path from main's own File menu dialog). Electron-free.
import type { Core } from '../core';
import { passwordAccount } from '../connection/manager';
import { importOvpnBytes, importOvpnFile } from '../profiles/importer';
import type { DesktopCore } from './desktop-service';
import { desktopCerts } from './desktop-certs';

export function desktopCore(core: Core): DesktopCore {
  return {
    profiles: core.profiles,
    importProfile: (bytes, name, askPassphrase) => importOvpnBytes(core.profiles, bytes, { name, askPassphrase }),
    importProfileFile: (path, askPassphrase) => importOvpnFile(core.profiles, path, { askPassphrase }),
    connections: core.connections,
    secrets: core.secrets,
    passwordAccount,
    certs: desktopCerts(core.certs),
    readLog: (profileId) => core.readLog(profileId),
  };
}
