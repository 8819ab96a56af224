// The one app window: sandboxed, isolated, no Node, loading only app://causeway/index.html.
// Closing it hides it to the tray (the VPN keeps running); Quit in the tray really quits.
import { BrowserWindow } from 'electron';
import { APP_INDEX_URL } from '../desktop/app-protocol';

export interface WindowOptions {
  preload: string;
  icon: string;
  startHidden: boolean;
  devTools: boolean;
  /** Whether closing should really close (the app is quitting). */
  isQuitting(): boolean;
}

export function createMainWindow(opts: WindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 920,
    height: 720,
    minWidth: 560,
    minHeight: 480,
    show: false,
    title: 'Causeway',
    icon: opts.icon,
    autoHideMenuBar: true,
    webPreferences: {
      preload: opts.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      safeDialogs: true,
      devTools: opts.devTools,
    },
  });
  win.once('ready-to-show', () => {
    if (!opts.startHidden) win.show();
  });
  win.on('close', (e) => {
    if (opts.isQuitting()) return;
    e.preventDefault();
    win.hide();
  });
  void win.loadURL(APP_INDEX_URL);
  return win;
}

export function showWindow(win: BrowserWindow): void {
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}
