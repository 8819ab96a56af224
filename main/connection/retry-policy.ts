// When the connection manager retries, waits and gives up. One object so the CLI, the app and
// the tests can tune it; the defaults are what users get.
export interface ConnectionPolicy {
  /** How long a prompt may stay unanswered. */
  promptTimeoutMs: number;
  /** Give up when the tunnel has been down (reconnecting) this long. */
  maxReconnectMs: number;
  /** New helpers to try after a helper crash, for sessions that need no prompt. */
  helperRetries: number;
  helperRetryBaseMs: number;
  /** Further attempts after AUTH_FAILED with `auth-retry interact` (asks) or `nointeract` (same answer). */
  authRetries: number;
  authRetryDelayMs: number;
  /** Warn this long before a server-announced session timeout. */
  sessionExpiryWarningSec: number;
  /** Reconnect after a session timeout when no user interaction is needed. */
  reconnectOnSessionExpiry: boolean;
  /** How long a disconnect may take before the session is considered gone anyway. */
  disconnectTimeoutMs: number;
}

export const DEFAULT_POLICY: ConnectionPolicy = {
  promptTimeoutMs: 120_000,
  maxReconnectMs: 300_000,
  helperRetries: 3,
  helperRetryBaseMs: 1_000,
  authRetries: 2,
  authRetryDelayMs: 2_000,
  sessionExpiryWarningSec: 300,
  reconnectOnSessionExpiry: true,
  disconnectTimeoutMs: 10_000,
};
