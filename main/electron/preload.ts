// Runs sandboxed before the page: exposes the frozen, typed `window.causeway` bridge and nothing
// else. No Node, no ipcRenderer, no generic invoke reaches the page.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { buildBridge } from '../../app/ipc/bridge';

const bridge = buildBridge({
  invoke: (channel, args) => ipcRenderer.invoke(channel, ...args),
  subscribe(channel, listener) {
    const handler = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(channel, handler);
    return () => {
      ipcRenderer.removeListener(channel, handler);
    };
  },
});

contextBridge.exposeInMainWorld('causeway', bridge);
