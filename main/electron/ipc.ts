// Electron's half of the IPC transport: one ipcMain handler per call in the schema, each of which
// first checks that the sender is our window's top frame showing our own page, then hands the
// arguments to the validating dispatcher. Events go to that window only.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import type { Dispatcher, EventSink } from '../../app/ipc/handlers';
import { callChannel, callNames, eventChannel } from '../../app/ipc/schema';
import { isAppUrl } from '../desktop/app-protocol';

export function isTrustedSender(event: IpcMainInvokeEvent, win: BrowserWindow | null): boolean {
  if (!win || win.isDestroyed() || event.sender !== win.webContents) return false;
  const frame = event.senderFrame;
  return frame !== null && frame === event.sender.mainFrame && isAppUrl(frame.url);
}

export function registerIpc(dispatcher: Dispatcher, window: () => BrowserWindow | null): () => void {
  for (const name of callNames) {
    ipcMain.handle(callChannel(name), async (event, ...args: unknown[]) => {
      if (!isTrustedSender(event, window())) return { ok: false, error: { code: 'untrusted-sender', message: 'Request refused.' } };
      return dispatcher.dispatch(name, args);
    });
  }
  return () => callNames.forEach((name) => ipcMain.removeHandler(callChannel(name)));
}

export function windowEventSink(window: () => BrowserWindow | null): EventSink {
  return (event, payload) => {
    const win = window();
    if (!win || win.isDestroyed() || win.webContents.isDestroyed() || win.webContents.isCrashed()) return;
    win.webContents.send(eventChannel(event), payload);
  };
}
