// The Electron-facing wiring, checked against a recording stand-in for the 'electron' module
// (the real binary cannot be installed here): what the window is allowed to do, what the session
// refuses, and which IPC senders are heard. These are the app's security boundary, so each rule
// is asserted from the handler Electron would call.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type Handler = (...args: unknown[]) => unknown;

const recorded = vi.hoisted(() => ({
  appListeners: new Map<string, (...args: unknown[]) => void>(),
  ipcHandlers: new Map<string, (...args: unknown[]) => unknown>(),
  windows: [] as { options: Record<string, unknown>; url: string | null }[],
  session: {
    permissionRequest: null as null | ((...a: unknown[]) => void),
    permissionCheck: null as null | ((...a: unknown[]) => boolean),
    beforeRequest: null as null | ((...a: unknown[]) => void),
    protocolHandler: null as null | ((req: { url: string }) => Promise<Response>),
    spellcheckUrl: '',
  },
  schemes: [] as unknown[],
}));

vi.mock('electron', () => {
  class BrowserWindow {
    webContents = { send: vi.fn(), isDestroyed: () => false, isCrashed: () => false };
    constructor(options: Record<string, unknown>) {
      recorded.windows.push({ options, url: null });
    }
    once() {}
    on() {}
    isDestroyed() {
      return false;
    }
    loadURL(url: string) {
      recorded.windows.at(-1)!.url = url;
      return Promise.resolve();
    }
  }
  const session = {
    protocol: { handle: (_s: string, h: (req: { url: string }) => Promise<Response>) => (recorded.session.protocolHandler = h) },
    setPermissionRequestHandler: (h: Handler) => (recorded.session.permissionRequest = h),
    setPermissionCheckHandler: (h: (...a: unknown[]) => boolean) => (recorded.session.permissionCheck = h),
    webRequest: { onBeforeRequest: (h: Handler) => (recorded.session.beforeRequest = h) },
    setSpellCheckerDictionaryDownloadURL: (u: string) => (recorded.session.spellcheckUrl = u),
    setSpellCheckerEnabled: () => {},
  };
  return {
    app: { on: (event: string, l: (...args: unknown[]) => void) => recorded.appListeners.set(event, l) },
    session: { defaultSession: session },
    protocol: { registerSchemesAsPrivileged: (s: unknown[]) => recorded.schemes.push(...s) },
    ipcMain: { handle: (channel: string, h: Handler) => recorded.ipcHandlers.set(channel, h), removeHandler: (c: string) => recorded.ipcHandlers.delete(c) },
    BrowserWindow,
  };
});

const { denyNavigationEverywhere, hardenSession, registerAppScheme } = await import('./security');
const { createMainWindow } = await import('./window');
const { registerIpc } = await import('./ipc');
const { callChannel } = await import('../../app/ipc/schema');

describe('window', () => {
  it('is sandboxed, isolated, without Node, and loads only the app page', () => {
    createMainWindow({ preload: '/app/preload.cjs', icon: '/app/icon.png', startHidden: true, devTools: false, isQuitting: () => false });
    const { options, url } = recorded.windows.at(-1)!;
    const prefs = options.webPreferences as Record<string, unknown>;
    expect(prefs.preload).toBe('/app/preload.cjs');
    for (const on of ['contextIsolation', 'sandbox', 'webSecurity']) expect(prefs[on], on).toBe(true);
    const off = ['nodeIntegration', 'nodeIntegrationInWorker', 'nodeIntegrationInSubFrames', 'webviewTag', 'devTools'];
    for (const key of off) expect(prefs[key], key).toBe(false);
    expect(options.show).toBe(false);
    expect(url).toBe('app://causeway/index.html');
  });
});

describe('session hardening', () => {
  const parent = mkdtempSync(join(tmpdir(), 'causeway-app-'));
  const root = join(parent, 'renderer');
  mkdirSync(root);
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Causeway</title>');
  writeFileSync(join(parent, 'outside.html'), 'outside');
  afterAll(() => rmSync(parent, { recursive: true, force: true }));
  beforeEach(() => hardenSession(root));

  it('registers app:// as a standard secure scheme', () => {
    registerAppScheme();
    expect(recorded.schemes).toContainEqual({ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) });
  });

  it('denies every permission but writing to the clipboard', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) {
      const cb = vi.fn();
      recorded.session.permissionRequest!(null, p, cb);
      expect(cb, p).toHaveBeenCalledWith(false);
      expect(recorded.session.permissionCheck!(null, p)).toBe(false);
    }
    const cb = vi.fn();
    recorded.session.permissionRequest!(null, 'clipboard-sanitized-write', cb);
    expect(cb).toHaveBeenCalledWith(true);
  });

  it('cancels every request that is not for the app’s own files', () => {
    const decide = (url: string) => {
      const cb = vi.fn();
      recorded.session.beforeRequest!({ url }, cb);
      return cb.mock.calls[0]![0];
    };
    expect(decide('app://causeway/assets/index.js')).toEqual({ cancel: false });
    for (const url of ['https://example.com/x.js', 'http://127.0.0.1:35001/', 'file:///etc/passwd', 'app://other/index.html']) {
      expect(decide(url), url).toEqual({ cancel: true });
    }
    expect(recorded.session.spellcheckUrl).toMatch(/\.invalid\//);
  });

  it('serves files from the renderer folder only', async () => {
    const ok = await recorded.session.protocolHandler!({ url: 'app://causeway/index.html' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await ok.text()).toContain('<title>Causeway</title>');
    for (const url of ['app://causeway/..%2foutside.html', 'app://causeway/missing.html', 'app://causeway/..%2f..%2fetc/passwd']) {
      expect((await recorded.session.protocolHandler!({ url })).status, url).toBe(404);
    }
  });
});

describe('navigation', () => {
  it('prevents navigation, redirects, webviews and new windows in every web contents', () => {
    denyNavigationEverywhere();
    const handlers = new Map<string, (e: { preventDefault(): void }) => void>();
    let openHandler: (() => unknown) | null = null;
    const contents = { on: (ev: string, h: (e: { preventDefault(): void }) => void) => handlers.set(ev, h), setWindowOpenHandler: (h: () => unknown) => (openHandler = h) };
    recorded.appListeners.get('web-contents-created')!({}, contents);
    for (const ev of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const e = { preventDefault: vi.fn() };
      handlers.get(ev)!(e);
      expect(e.preventDefault, ev).toHaveBeenCalled();
    }
    expect(openHandler!()).toEqual({ action: 'deny' });
  });
});

describe('IPC', () => {
  const mainFrame = { url: 'app://causeway/index.html' };
  afterEach(() => {
    mainFrame.url = 'app://causeway/index.html';
  });
  const webContents = { mainFrame, send: vi.fn(), isDestroyed: () => false, isCrashed: () => false };
  const win = { webContents, isDestroyed: () => false } as never;
  const dispatcher = { dispatch: vi.fn(async () => ({ ok: true as const, value: 'done' })) };

  beforeEach(() => {
    dispatcher.dispatch.mockClear();
    registerIpc(dispatcher, () => win);
  });

  it('hears our own top frame', async () => {
    const out = await recorded.ipcHandlers.get(callChannel('connect'))!({ sender: webContents, senderFrame: mainFrame }, 'work');
    expect(out).toEqual({ ok: true, value: 'done' });
    expect(dispatcher.dispatch).toHaveBeenCalledWith('connect', ['work']);
  });

  it('refuses our window once it shows another origin', async () => {
    mainFrame.url = 'https://evil.example/';
    const out = await recorded.ipcHandlers.get(callChannel('connect'))!({ sender: webContents, senderFrame: mainFrame }, 'work');
    expect(out).toMatchObject({ ok: false, error: { code: 'untrusted-sender' } });
    expect(dispatcher.dispatch).not.toHaveBeenCalled();
  });

  it.each([
    ['a subframe', { sender: webContents, senderFrame: { url: 'app://causeway/index.html' } }],
    ['another web contents', { sender: { mainFrame }, senderFrame: mainFrame }],
    ['a frame that is gone', { sender: webContents, senderFrame: null }],
  ])('refuses %s', async (_label, event) => {
    const out = await recorded.ipcHandlers.get(callChannel('connect'))!(event, 'work');
    expect(out).toMatchObject({ ok: false, error: { code: 'untrusted-sender' } });
    expect(dispatcher.dispatch).not.toHaveBeenCalled();
  });
});
