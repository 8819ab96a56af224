// main.ts end to end against a recording stand-in for the 'electron' module (the Electron binary
// cannot be installed here): startup builds the real core (memory secrets, a temporary config
// folder), connect-on-startup runs and its failure is notified, the window and its IPC answer the
// renderer's calls, File > Import Profile… imports a file with references beside it, the tray
// follows, and Quit disconnects before leaving.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { importOvpnFile } from '../profiles/importer';
import { ProfileStore } from '../profiles/store';
import { MemoryStore } from '../secrets/memory-store';

interface MenuItem {
  label?: string;
  submenu?: MenuItem[];
  click?: () => void;
}

const e = vi.hoisted(() => ({
  appListeners: new Map<string, (...args: unknown[]) => void>(),
  ipc: new Map<string, (...args: unknown[]) => Promise<unknown>>(),
  windows: [] as { options: { webPreferences: { preload: string } }; webContents: { send: ReturnType<typeof import('vitest').vi.fn>; mainFrame: { url: string } } }[],
  trayMenus: [] as MenuItem[][],
  appMenu: null as MenuItem[] | null,
  paths: new Map<string, string>(),
  quit: 0,
  openDialogPath: '',
  messages: [] as { message: string; detail: string }[],
  notifications: [] as { title: string; body: string }[],
}));

vi.mock('electron', () => {
  const noop = () => {};
  class BrowserWindow {
    webContents = { send: vi.fn(), isDestroyed: () => false, isCrashed: () => false, mainFrame: { url: 'app://causeway/index.html' } };
    constructor(readonly options: { webPreferences: { preload: string } }) {
      e.windows.push(this);
    }
    once = noop;
    on = noop;
    isDestroyed = () => false;
    isMinimized = () => false;
    show = noop;
    focus = noop;
    loadURL = async () => {};
  }
  class Tray {
    on = noop;
    setImage = noop;
    setToolTip = noop;
    setContextMenu = (m: MenuItem[]) => e.trayMenus.push(m);
    destroy = noop;
  }
  class Notification {
    static isSupported = () => true;
    constructor(private readonly o: { title: string; body: string }) {}
    show() {
      e.notifications.push(this.o);
    }
  }
  const session = {
    protocol: { handle: noop },
    setPermissionRequestHandler: noop,
    setPermissionCheckHandler: noop,
    webRequest: { onBeforeRequest: noop },
    setSpellCheckerDictionaryDownloadURL: noop,
    setSpellCheckerEnabled: noop,
  };
  return {
    app: {
      setPath: (name: string, p: string) => e.paths.set(name, p),
      requestSingleInstanceLock: () => true,
      enableSandbox: noop,
      on: (ev: string, l: (...args: unknown[]) => void) => e.appListeners.set(ev, l),
      whenReady: async () => {},
      getAppPath: () => process.cwd(),
      getVersion: () => '0.1.0',
      isPackaged: false,
      quit: () => {
        e.quit++;
      },
      exit: noop,
    },
    protocol: { registerSchemesAsPrivileged: noop },
    session: { defaultSession: session },
    net: { fetch: async () => new Response('') },
    ipcMain: { handle: (c: string, h: (...args: unknown[]) => Promise<unknown>) => e.ipc.set(c, h), removeHandler: noop },
    BrowserWindow,
    Tray,
    Notification,
    nativeImage: { createFromPath: (p: string) => ({ p }) },
    Menu: { buildFromTemplate: (t: MenuItem[]) => t, setApplicationMenu: (m: MenuItem[]) => (e.appMenu = m) },
    dialog: {
      showOpenDialog: async () => ({ canceled: false, filePaths: [e.openDialogPath] }),
      showMessageBox: async (o: { message: string; detail: string }) => void e.messages.push(o),
      showErrorBox: noop,
    },
    shell: { openExternal: async () => {} },
  };
});

const home = mkdtempSync(join(tmpdir(), 'causeway-main-'));

function writeProfile(dir: string, name: string, extra: string): string {
  const path = join(dir, name);
  writeFileSync(path, `client\ndev tun\nremote vpn.example.com 1194 udp\nauth-user-pass\nca ca.crt\n${extra}`);
  return path;
}
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('the Electron main process', () => {
  it('starts, serves the renderer, imports from the File menu, and disconnects on quit', async () => {
    vi.stubEnv('XDG_CONFIG_HOME', join(home, 'config'));
    vi.stubEnv('XDG_STATE_HOME', join(home, 'state'));
    vi.stubEnv('CAUSEWAY_SECRET_STORE', 'memory');
    // No helper can be started here: connecting fails the way a missing helper does.
    vi.stubEnv('CAUSEWAY_HELPER', join(home, 'no-such-helper'));

    // A CA the admin's profiles reference, and a profile the user chose to connect at startup.
    const dir = join(home, 'from-admin');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-out', join(dir, 'ca.crt'), '-subj', '/CN=Test CA', '-days', '30'], { stdio: 'ignore' });
    const appDir = join(home, 'config', 'Causeway');
    const store = new ProfileStore(join(appDir, 'profiles'), new MemoryStore());
    const startup = await importOvpnFile(store, writeProfile(dir, 'startup.ovpn', ''), {});
    writeFileSync(join(appDir, 'desktop-settings.json'), JSON.stringify({ connectOnStartup: startup.profile!.id, startMinimized: true, notifications: true }));

    await import('./main');
    await vi.waitFor(() => expect(e.appMenu).not.toBeNull());

    expect(e.paths.get('userData')).toBe(join(home, 'config', 'Causeway'));
    const win = e.windows[0]!;
    expect(win.options.webPreferences.preload).toMatch(/preload\.cjs$/);

    // The renderer's first call, from our own top frame.
    const sender = { sender: win.webContents, senderFrame: win.webContents.mainFrame };
    const snapshot = await e.ipc.get('causeway:call:getSnapshot')!(sender);
    expect(snapshot).toMatchObject({ ok: true, value: { profiles: [{ name: 'startup' }], environment: { secretBackend: 'memory', secretsPersistent: false } } });

    // Connect on startup was tried, and its failure told through a desktop notification.
    await vi.waitFor(() => expect(e.notifications.map((n) => n.title)).toContain('startup: connection failed'));

    // File > Import Profile…: a profile whose CA is a file next to it.
    e.openDialogPath = writeProfile(dir, 'office.ovpn', 'up /bin/true\n');
    const file = e.appMenu!.find((m) => m.label === 'File')!.submenu!;
    file.find((m) => m.label === 'Import Profile…')!.click!();
    await vi.waitFor(() => expect(e.messages).toHaveLength(1));
    expect(e.messages[0]).toMatchObject({ message: 'Imported “office”', detail: expect.stringContaining('• up:') });
    const pushed = win.webContents.send.mock.calls.filter(([c]) => c === 'causeway:event:snapshot').at(-1)![1] as { profiles: { name: string }[] };
    expect(pushed.profiles.map((p) => p.name).sort()).toEqual(['office', 'startup']);
    const tray = e.trayMenus.at(-1)!.map((i) => i.label).filter(Boolean);
    expect(tray).toEqual(expect.arrayContaining(['Connect office', 'Connect startup', 'Open Causeway', 'Quit']));

    // Quit waits for the core to disconnect, then really quits.
    const event = { preventDefault: vi.fn() };
    e.appListeners.get('before-quit')!(event);
    expect(event.preventDefault).toHaveBeenCalled();
    await vi.waitFor(() => expect(e.quit).toBe(1));
    vi.unstubAllEnvs();
  });
});
