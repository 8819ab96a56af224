// The renderer's only way to reach main: the frozen `window.causeway` object the preload exposes.
import type { CausewayBridge } from '../../app/ipc/bridge';

declare global {
  interface Window {
    causeway?: CausewayBridge;
  }
}

export type { CausewayBridge };

export function getBridge(): CausewayBridge {
  if (!window.causeway) throw new Error('window.causeway is missing: the preload did not run');
  return window.causeway;
}

/**
 * The message to show for a failed call. The bridge only rejects with main's user-facing text
 * (secrets never reach it), and contextBridge keeps only an Error's message, so that is what we show.
 */
export function errorMessage(err: unknown): string {
  if (err instanceof Error && err.message) return err.message;
  return 'Something went wrong. Please try again.';
}
