// One profile's session as the connection manager tracks it: the state machine's current state,
// the helper session of the current attempt, stats, pushed settings, banner, credentials in use,
// retry bookkeeping, timers, and the redacted log. Snapshots of it are what the CLI and UI see.
import type { PushedSettings } from '../../app/helper-protocol/messages.js';
import type { Profile } from '../../app/profile/model.js';
import type { ConnectionState } from '../../app/connection/state.js';
import type { ProxyCredentials } from '../profiles/secret-accounts.js';
import { Redactor } from './redact.js';
import { logFile, SessionLog } from './session-log.js';

export { keyAccount, passwordAccount, usernameAccount } from '../profiles/secret-accounts.js';

export interface SessionStats {
  rxBytes: number;
  txBytes: number;
  /** ms since the epoch, while connected. */
  connectedSince: number | null;
}

export interface SessionSnapshot {
  id: string;
  profileId: string;
  profileName: string;
  state: ConnectionState;
  stats: SessionStats;
  pushed: PushedSettings | null;
  /** Server `echo` lines (AWS banner text), newest last. */
  banner: string[];
  /** A failed session the manager will start again by itself (after a helper crash). */
  retrying: boolean;
}

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Where a session's username and password stand: one state instead of separate flags, so that
 * "typed but not to be remembered" or "refused but still offered" cannot be expressed.
 */
export type CredentialState =
  /** Nothing to send: the keyring is tried, else the user is asked (`refused` says why again). */
  | { kind: 'none'; username: string | null; refused: string | null }
  /** From the keyring: if the server refuses them, the user is asked once, whatever auth-retry says. */
  | { kind: 'saved'; credentials: Credentials }
  /** Typed by the user; saved to the keyring when the server accepts them, if `remember`. */
  | { kind: 'typed'; credentials: Credentials; remember: boolean };

export const noCredentials = (username: string | null, refused: string | null = null): CredentialState => ({
  kind: 'none',
  username,
  refused,
});

/** The credentials in use or being tried, if any. */
export function credentialsOf(state: CredentialState): Credentials | null {
  return state.kind === 'none' ? null : state.credentials;
}

/** The username to prefill when asking. */
export function usernameOf(state: CredentialState): string | null {
  return state.kind === 'none' ? state.username : state.credentials.username;
}

export class Session {
  state: ConnectionState = { phase: 'idle' };
  /** The helper's id for the current attempt (a new one per attempt). */
  helperSession: string | null = null;
  attempt = 0;
  stats: SessionStats = { rxBytes: 0, txBytes: 0, connectedSince: null };
  pushed: PushedSettings | null = null;
  banner: string[] = [];
  /** Reused for reconnects unless auth-nocache. */
  credentials: CredentialState = noCredentials(null);
  /** The proxy's credentials when the profile asks for them: kept for reconnects; `remember` until saved. */
  proxyCredentials: { credentials: ProxyCredentials; remember: boolean } | null = null;
  /** The keyring's password was refused: do not offer it again in this session. */
  savedRejected = false;
  authRetries = 0;
  helperRetries = 0;
  /** Aborted when the current attempt ends; cancels prompts and login flows. */
  abort = new AbortController();
  timers = new Set<NodeJS.Timeout>();
  retryPending = false;
  reconnectTimer: NodeJS.Timeout | null = null;
  /** `causeway connect --kill-switch`: the kill switch for this connection only, whatever the profile says. */
  killSwitchOverride = false;
  readonly redactor = new Redactor();
  readonly log: SessionLog;
  readonly idle: Array<() => void> = [];

  constructor(
    readonly id: string,
    public profile: Profile,
    logDir: string | null,
    now: () => number,
  ) {
    this.log = new SessionLog(this.redactor, logDir ? logFile(logDir, profile.id) : null, now);
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  /** What the CLI and UI see: no secrets (banner lines are redacted too). */
  snapshot(): SessionSnapshot {
    return {
      id: this.id,
      profileId: this.profile.id,
      profileName: this.profile.name,
      state: this.state,
      stats: { ...this.stats },
      pushed: this.pushed,
      banner: this.banner.map((b) => this.redactor.redact(b)),
      retrying: this.retryPending,
    };
  }
}
