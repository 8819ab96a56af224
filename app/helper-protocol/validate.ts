// Strict validation of helper-protocol messages. Every message that crosses the boundary goes
// through here. The checks are generated from the helper's serde types (generated/validators.ts),
// so they reject exactly what the helper rejects: closed set of types, every field present,
// unknown fields refused, integers within their Rust type's range. Errors name the offending
// path but never include values, which may be secrets.
import { ProtocolError } from './checks.js';
import { ClientMessage as clientMessage, HelperMessage as helperMessage } from './generated/validators.js';
import type { ClientMessage, HelperMessage } from './messages.js';

export { ProtocolError };

/** Validates a message main sends to the helper (used before sending, and by tests). */
export function parseClientMessage(value: unknown): ClientMessage {
  clientMessage(value, 'ClientMessage');
  return value as ClientMessage;
}

/** Validates a message received from the helper; anything else is a protocol error. */
export function parseHelperMessage(value: unknown): HelperMessage {
  helperMessage(value, 'HelperMessage');
  return value as HelperMessage;
}
