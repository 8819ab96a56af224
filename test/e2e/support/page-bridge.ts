// Bundled into the page before the renderer loads (page.addInitScript): builds the same
// `window.causeway` bridge as the Electron preload, over a Playwright binding instead of Electron
// IPC. Byte arrays are sent as base64 because the binding carries JSON.
import { buildBridge } from '../../../app/ipc/bridge';

type Listener = (payload: unknown) => void;
const listeners = new Map<string, Set<Listener>>();

/** What this script and the Playwright binding add to the page's global object. */
export interface PageGlobals {
  __causewayInvoke(channel: string, args: unknown[]): Promise<unknown>;
  __causewayDeliver(channel: string, payload: unknown): void;
}
// This file is type-checked with the Node project (no DOM lib), so the page's window is typed here.
const page = globalThis as unknown as PageGlobals;

function encode(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    let bin = '';
    for (const b of value) bin += String.fromCharCode(b);
    return { __bytes: btoa(bin) };
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return value;
}

page.__causewayDeliver = (channel, payload) => listeners.get(channel)?.forEach((l) => l(payload));

Object.defineProperty(globalThis, 'causeway', {
  value: buildBridge({
    // Looked up per call: Playwright installs the binding itself, independently of this script.
    invoke: (channel, args) => page.__causewayInvoke(channel, encode(args) as unknown[]),
    subscribe(channel, listener) {
      const set = listeners.get(channel) ?? new Set<Listener>();
      set.add(listener);
      listeners.set(channel, set);
      return () => set.delete(listener);
    },
  }),
  writable: false,
  configurable: false,
});
