// The Electron main process: lifecycle and the pieces only Electron can provide (window, tray,
// notifications, file dialog, system browser). Everything it shows and does goes through the
// Electron-free DesktopService, the same one the e2e tests drive in Chromium.
import { app, dialog, Menu, net, Notification, shell, type BrowserWindow } from 'electron';
import { join } from 'node:path';
import { createDispatcher } from '../../app/ipc/handlers';
import type { ImportVerdict } from '../../app/ipc/types';
import { safeOpener } from '../auth/browser';
import { createLoginFlows } from '../auth/login-flows';
import { locateHelper } from '../helper/locate';
import { configDir } from '../profiles/paths';
import { openCore, type Core } from '../core';
import { desktopCore } from '../desktop/desktop-core';
import { DesktopService } from '../desktop/desktop-service';
import { registerIpc, windowEventSink } from './ipc';
import { notificationFor } from '../desktop/notification-model';
import { denyNavigationEverywhere, hardenSession, registerAppScheme } from './security';
import { SettingsStore } from '../desktop/settings-store';
import { TrayController } from './tray';
import { trayModel } from '../desktop/tray-model';
import { profileSummary } from '../desktop/views';
import { createMainWindow, showWindow } from './window';

/** How long a quit waits for sessions to disconnect before leaving anyway. */
const QUIT_TIMEOUT_MS = 8_000;

function logError(context: string, err: unknown): void {
  // Errors from the core never carry secrets (see main/connection/redact.ts); keep only the message.
  console.error(`causeway: ${context}: ${err instanceof Error ? err.message : String(err)}`);
}

function verdictText(v: ImportVerdict): string {
  if (!v.ok) return v.errors.map((e) => (e.line !== null ? `Line ${e.line}: ${e.message}` : e.message)).join('\n');
  const removed = v.stripped.map((s) => `• ${s.directive}: ${s.reason}`);
  return [removed.length ? 'For your safety, Causeway removed:' : 'The profile is ready.', ...removed, ...v.warnings.map((w) => `• ${w}`)].join('\n');
}

/**
 * The helper built in this checkout, when the app runs from one and CAUSEWAY_HELPER does not name
 * another; otherwise undefined, and the core's own lookup (with its error message) applies.
 */
function checkoutHelper(appRoot: string): string | undefined {
  if (process.env.CAUSEWAY_HELPER) return undefined;
  try {
    return locateHelper({ repoRoot: appRoot });
  } catch {
    return undefined;
  }
}

async function start(): Promise<void> {
  let window: BrowserWindow | null = null;
  let core: Core | null = null;
  let tray: TrayController | null = null;
  let quitting = false;
  let shutDown = false;

  const appRoot = app.getAppPath();
  // Packaged, the icons are extraResources (electron-builder.yml); in a checkout they are in the repo.
  const iconDir = app.isPackaged ? join(process.resourcesPath, 'icons') : join(appRoot, 'resources/icons');
  const show = () => window && showWindow(window);

  app.on('second-instance', show);
  app.on('activate', show);
  // The tray keeps the app (and its VPN sessions) alive with no window open.
  app.on('window-all-closed', () => {});
  app.on('before-quit', (event) => {
    quitting = true;
    if (shutDown || !core) return;
    // A clean quit disconnects every session first, so no tunnel outlives the app.
    event.preventDefault();
    const done = () => {
      shutDown = true;
      tray?.destroy();
      app.quit();
    };
    const timer = setTimeout(done, QUIT_TIMEOUT_MS);
    core
      .shutdown()
      .catch((err: unknown) => logError('disconnecting on quit', err))
      .finally(() => {
        clearTimeout(timer);
        done();
      });
  });

  await app.whenReady();
  hardenSession(join(appRoot, 'dist/renderer'));

  const settings = SettingsStore.inDir(configDir());
  await settings.load();
  const opener = safeOpener({ open: (url) => shell.openExternal(url) });
  const service = new DesktopService({ settings, openUrl: (url) => opener.open(url), version: app.getVersion(), logError });
  core = await openCore({
    prompter: service.prompts,
    openUrl: service.openLoginUrl,
    // AWS SAML, OIDC and web-auth sign-in, in the system browser; OIDC provider calls go through
    // Chromium's network stack so system proxies and corporate trust stores apply.
    loginFlows: createLoginFlows({ opener: { open: service.openLoginUrl }, fetch: (url, init) => net.fetch(url, init) }),
    resourcesPath: app.isPackaged ? process.resourcesPath : null,
    // From a checkout (`npm start`) the repository is the app path, not two folders above this
    // bundle as locateHelper's default assumes.
    ...(app.isPackaged ? {} : { helper: { helperPath: checkoutHelper(appRoot) } }),
    clientName: 'causeway-app',
  });
  service.attach(desktopCore(core));

  window = createMainWindow({
    preload: join(__dirname, 'preload.cjs'),
    icon: join(iconDir, 'app.png'),
    startHidden: settings.get().startMinimized,
    devTools: !app.isPackaged,
    isQuitting: () => quitting,
  });
  registerIpc(createDispatcher(service.calls, logError), () => window);
  service.setSink(windowEventSink(() => window));

  const report = (context: string) => (err: unknown) => {
    logError(context, err);
    if (Notification.isSupported()) new Notification({ title: 'Causeway', body: err instanceof Error ? err.message : context }).show();
  };
  tray = new TrayController(iconDir, {
    connect: (id) => void service.calls.connect(id).catch(report('connect')),
    disconnect: (id) => void service.calls.disconnect(id).catch(report('disconnect')),
    show,
    quit: () => app.quit(),
  });
  const redrawTray = () => {
    const profiles = service.profiles();
    tray?.update(trayModel(profiles.map((p) => profileSummary(p)), Object.fromEntries(profiles.map((p) => [p.id, service.view(p.id)]))));
  };
  redrawTray();
  service.observe((e) => {
    redrawTray();
    if (e.type !== 'connection' || !settings.get().notifications || !Notification.isSupported()) return;
    const text = notificationFor(e.profileName, e.previous, e.view);
    if (text) new Notification({ ...text, icon: join(iconDir, 'app.png') }).show();
  });

  const importFromDialog = async () => {
    const choice = await dialog.showOpenDialog({
      title: 'Import a VPN profile',
      properties: ['openFile'],
      filters: [{ name: 'OpenVPN profiles', extensions: ['ovpn', 'conf'] }],
    });
    const path = choice.filePaths[0];
    if (choice.canceled || !path) return;
    const verdict = await service.importFile(path);
    show();
    await dialog.showMessageBox({
      type: verdict.ok ? (verdict.stripped.length || verdict.warnings.length ? 'warning' : 'info') : 'error',
      message: verdict.ok ? `Imported “${verdict.profile.name}”` : 'The profile could not be imported',
      detail: verdictText(verdict),
    });
  };
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      {
        label: 'File',
        submenu: [
          { label: 'Import Profile…', accelerator: 'CmdOrCtrl+O', click: () => void importFromDialog().catch(report('import')) },
          { type: 'separator' },
          { role: 'quit' },
        ],
      },
      { role: 'editMenu' },
      { role: 'windowMenu' },
    ]),
  );

  await service.connectOnStartup();
}

// One folder for the app and the CLI (Electron's own data sits beside the profiles the CLI reads);
// set first, because the single-instance lock lives there.
app.setPath('userData', configDir());
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.enableSandbox();
  registerAppScheme();
  denyNavigationEverywhere();
  start().catch((err: unknown) => {
    logError('startup', err);
    dialog.showErrorBox('Causeway could not start', err instanceof Error ? err.message : String(err));
    app.exit(1);
  });
}
