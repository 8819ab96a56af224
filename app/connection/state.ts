// The connection state of one session, shared by main, the CLI and the renderer.
//
//   idle → resolving → connecting → authenticating → connected → reconnecting → … → disconnecting → idle
//                                    (waiting: server | credentials | challenge | browser)
//   any active state → failed(reason)      failed → idle (dismiss) or → resolving (connect again)
//
// `transition(state, event)` is the only way to move: it returns the next state, or null when the
// event makes no sense in this state (the caller ignores it and logs it). There is no setter, so
// an illegal state change cannot happen. The state holds only what the user sees about progress;
// stats, pushed settings and logs travel beside it (main/connection/session.ts).
import type { ErrorCode, Proto, SessionPhase } from '../helper-protocol/messages.js';

export interface RemoteInfo {
  host: string;
  address: string;
  port: number;
  proto: Proto;
}

/** What an authenticating session is waiting for. */
export type AuthWait =
  | 'server' // credentials (or certificate) sent, the server is deciding
  | 'credentials' // username/password prompt open
  | 'challenge' // static-challenge or CRV1 answer prompt open
  | 'browser'; // single sign-on page open in the browser

export type FailureReason =
  | 'bad-credentials'
  | 'bad-proxy-credentials'
  | 'sign-in-failed'
  | 'server-unreachable'
  | 'server-certificate-rejected'
  | 'client-certificate-rejected'
  | 'tls-version-refused'
  | 'tls-failed'
  | 'profile-invalid'
  | 'helper-unavailable'
  | 'session-expired'
  | 'server-halted'
  | 'network-setup-failed'
  | 'permission-denied'
  | 'prompt-timeout'
  | 'cancelled'
  | 'protocol-error'
  | 'internal';

export type ConnectionState =
  | { phase: 'idle' }
  | { phase: 'resolving' }
  | { phase: 'connecting'; remote: RemoteInfo | null }
  | { phase: 'authenticating'; waiting: AuthWait; remote: RemoteInfo | null }
  | { phase: 'connected'; remote: RemoteInfo | null; since: number }
  | { phase: 'reconnecting'; attempt: number; cause: string | null }
  | { phase: 'disconnecting' }
  | { phase: 'failed'; reason: FailureReason; detail: string | null };

export type ConnectionPhase = ConnectionState['phase'];

export type ConnectionEvent =
  /** The user (or the reconnect policy) starts a session. */
  | { type: 'connect' }
  /** The helper reported a phase. */
  | {
      type: 'helper-state';
      phase: SessionPhase;
      remote: RemoteInfo | null;
      error: { code: ErrorCode; message: string } | null;
      at: number;
    }
  /** A prompt was opened for the user. */
  | { type: 'prompt'; waiting: 'credentials' | 'challenge' | 'browser' }
  /** The user answered the open prompt; the answer went to the helper. */
  | { type: 'answered' }
  /** The user asked to disconnect. */
  | { type: 'disconnect' }
  /** Something on main's side ended the session (helper crash, prompt timeout, missing key…). */
  | { type: 'fail'; reason: FailureReason; detail: string | null }
  /** The user acknowledged a failure. */
  | { type: 'dismiss' };

/** States in which a session exists in the helper (or is about to). */
export function isActive(state: ConnectionState): boolean {
  return state.phase !== 'idle' && state.phase !== 'failed';
}

/** Maps the helper's error code to the reason the user sees. */
export function reasonForError(code: ErrorCode): FailureReason {
  switch (code) {
    case 'auth-failed':
      return 'bad-credentials';
    case 'proxy-auth-failed':
      return 'bad-proxy-credentials';
    case 'server-unreachable':
      return 'server-unreachable';
    case 'tls-version-refused':
      return 'tls-version-refused';
    case 'server-cert-rejected':
      return 'server-certificate-rejected';
    case 'client-cert-rejected':
      return 'client-certificate-rejected';
    case 'tls-failed':
      return 'tls-failed';
    case 'halted':
      return 'server-halted';
    case 'session-expired':
      return 'session-expired';
    case 'tun-failed':
    case 'network-setup-failed':
      return 'network-setup-failed';
    case 'config-invalid':
      return 'profile-invalid';
    case 'permission-denied':
      return 'permission-denied';
    case 'protocol-error':
    case 'bad-message':
    case 'unknown-session':
      return 'protocol-error';
    case 'internal':
      return 'internal';
  }
}

function onHelperState(
  state: ConnectionState,
  event: Extract<ConnectionEvent, { type: 'helper-state' }>,
): ConnectionState | null {
  const { phase, remote } = event;
  if (state.phase === 'idle' || state.phase === 'failed') return null; // stale message for an ended session
  if (state.phase === 'disconnecting') {
    // Only the end of the session matters once the user asked to stop.
    if (phase === 'disconnected' || phase === 'failed') return { phase: 'idle' };
    return phase === 'disconnecting' ? state : null;
  }
  switch (phase) {
    case 'resolving':
      // Failover to the next remote resolves again; a reconnect stays "reconnecting".
      if (state.phase === 'reconnecting') return state;
      return state.phase === 'connected' ? null : { phase: 'resolving' };
    case 'connecting':
    case 'authenticating':
      // During a reconnect the user keeps seeing "reconnecting" until the tunnel is back.
      if (state.phase === 'reconnecting') return state;
      if (state.phase === 'connected') return null;
      if (phase === 'connecting') return { phase: 'connecting', remote: remote ?? stateRemote(state) };
      if (state.phase === 'authenticating') return { ...state, remote: remote ?? state.remote };
      return { phase: 'authenticating', waiting: 'server', remote: remote ?? stateRemote(state) };
    case 'connected':
      return { phase: 'connected', remote: remote ?? stateRemote(state), since: event.at };
    case 'reconnecting':
      return {
        phase: 'reconnecting',
        attempt: state.phase === 'reconnecting' ? state.attempt + 1 : 1,
        cause: event.error?.message ?? null,
      };
    case 'disconnecting':
      return { phase: 'disconnecting' };
    case 'disconnected':
      return { phase: 'idle' };
    case 'failed':
      return {
        phase: 'failed',
        reason: event.error ? reasonForError(event.error.code) : 'internal',
        detail: event.error?.message ?? null,
      };
  }
}

function stateRemote(state: ConnectionState): RemoteInfo | null {
  return 'remote' in state ? state.remote : null;
}

/** The next state, or null when `event` is not allowed in `state`. */
export function transition(state: ConnectionState, event: ConnectionEvent): ConnectionState | null {
  switch (event.type) {
    case 'connect':
      return state.phase === 'idle' || state.phase === 'failed' ? { phase: 'resolving' } : null;
    case 'helper-state':
      return onHelperState(state, event);
    case 'prompt':
      if (!isActive(state) || state.phase === 'disconnecting' || state.phase === 'connected') return null;
      return { phase: 'authenticating', waiting: event.waiting, remote: stateRemote(state) };
    case 'answered':
      if (state.phase !== 'authenticating' || state.waiting === 'server') return null;
      return { ...state, waiting: 'server' };
    case 'disconnect':
      if (!isActive(state) || state.phase === 'disconnecting') return null;
      return { phase: 'disconnecting' };
    case 'fail':
      // A disconnect the user asked for ends in idle even if the helper died meanwhile.
      if (state.phase === 'disconnecting') return { phase: 'idle' };
      if (!isActive(state)) return null;
      return { phase: 'failed', reason: event.reason, detail: event.detail };
    case 'dismiss':
      return state.phase === 'failed' ? { phase: 'idle' } : null;
  }
}
