// The typed `window.causeway` API, built over any transport that can invoke a channel and
// subscribe to one (Electron's ipcRenderer in the preload, a page binding in the e2e tests).
// The object is frozen and narrow: one function per call in the schema plus `on`, never a
// generic invoke.
import {
  callChannel,
  callNames,
  eventChannel,
  eventNames,
  type CallArgs,
  type CallName,
  type CallOutcome,
  type CallResult,
  type EventName,
  type Events,
} from './schema';

export interface BridgeTransport {
  invoke(channel: string, args: unknown[]): Promise<unknown>;
  /** Returns a function that stops the subscription. */
  subscribe(channel: string, listener: (payload: unknown) => void): () => void;
}

export type CausewayCalls = { [K in CallName]: (...args: CallArgs<K>) => Promise<CallResult<K>> };

export interface CausewayBridge extends CausewayCalls {
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void;
}

/** An error main reported for a call, carrying its user-facing message. */
export class CausewayCallError extends Error {
  override readonly name = 'CausewayCallError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function isOutcome(value: unknown): value is CallOutcome<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';
}

export function buildBridge(transport: BridgeTransport): CausewayBridge {
  const bridge: Record<string, unknown> = {};
  for (const name of callNames) {
    bridge[name] = async (...args: unknown[]) => {
      const outcome = await transport.invoke(callChannel(name), args);
      if (!isOutcome(outcome)) throw new CausewayCallError('bad-reply', 'The app did not answer as expected.');
      if (!outcome.ok) throw new CausewayCallError(outcome.error.code, outcome.error.message);
      return outcome.value;
    };
  }
  bridge.on = (event: EventName, listener: (payload: unknown) => void) => {
    if (!(eventNames as readonly string[]).includes(event)) throw new TypeError(`unknown event ${String(event)}`);
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    return transport.subscribe(eventChannel(event), listener);
  };
  return Object.freeze(bridge) as unknown as CausewayBridge;
}
