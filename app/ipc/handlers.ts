// Main's side of the contract: a dispatcher that validates a call's arguments against the schema
// and only then hands them to the service. Transports (Electron ipcMain, the e2e page binding)
// call `dispatch` after their own sender checks. Errors travel as data with a message meant for
// the user; unexpected errors are reported generically (their text could hold anything).
import { calls, type CallArgs, type CallName, type CallOutcome, type CallResult, type EventName, type Events } from './schema';
import { IpcValidationError } from './validate';

/** What main implements: one method per call in the schema. */
export type CausewayService = { [K in CallName]: (...args: CallArgs<K>) => Promise<CallResult<K>> };

/** Where main pushes events (every open window, or the e2e page). */
export type EventSink = <E extends EventName>(event: E, payload: Events[E]) => void;

/**
 * An error whose message is written for the user and free of secrets (e.g. "No profile named
 * 'work'."). The service throws these; anything else is reported as an internal error.
 */
export class UserFacingError extends Error {
  override readonly name = 'UserFacingError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Dispatcher {
  dispatch(name: string, args: unknown): Promise<CallOutcome<unknown>>;
}

export function createDispatcher(service: CausewayService, onInternalError: (name: string, err: unknown) => void): Dispatcher {
  return {
    async dispatch(name, args) {
      if (!Object.hasOwn(calls, name)) return { ok: false, error: { code: 'unknown-call', message: 'Unknown request.' } };
      const key = name as CallName;
      let parsed: unknown[];
      try {
        parsed = calls[key].args.parse(args, key) as unknown[];
      } catch (err) {
        if (err instanceof IpcValidationError) return { ok: false, error: { code: 'invalid-request', message: `Invalid request: ${err.message}.` } };
        throw err;
      }
      try {
        const method = service[key] as (...a: unknown[]) => Promise<unknown>;
        const value = await method.apply(service, parsed);
        return { ok: true, value };
      } catch (err) {
        if (err instanceof UserFacingError) return { ok: false, error: { code: err.code, message: err.message } };
        onInternalError(key, err);
        return { ok: false, error: { code: 'internal', message: 'Something went wrong inside Causeway. The log has details.' } };
      }
    },
  };
}
