// Prompts are requests the session makes of whoever is in front of it — the terminal for the
// CLI, a dialog for the desktop app. The manager owns the timeout: it aborts `signal` when the
// user took too long (the session then fails with 'prompt-timeout'), or when the session ended.

/** Username/password, optionally with a static-challenge answer (MFA code). */
export interface CredentialsPrompt {
  kind: 'credentials';
  id: string;
  sessionId: string;
  profileId: string;
  profileName: string;
  /** Username to prefill (from the profile, the saved one, or the last attempt). */
  username: string | null;
  /** False when a saved password will be used and only the challenge answer is needed. */
  askPassword: boolean;
  /** Static challenge: show `text`; echo the answer as typed when `echo`. */
  challenge: { text: string; echo: boolean } | null;
  /** Offer "remember password" (profile allows it and the secret store persists). */
  canRemember: boolean;
  /** Set when asking again after the server rejected the previous answer. */
  retryReason: string | null;
  timeoutMs: number;
}

/** A dynamic challenge (CRV1, or the server's CR_TEXT), answered with one value. */
export interface ChallengePrompt {
  kind: 'challenge';
  id: string;
  sessionId: string;
  profileId: string;
  profileName: string;
  text: string;
  echo: boolean;
  timeoutMs: number;
}

/** The proxy's username and password, for a profile that asks for them (`http-proxy … auto|stdin`, `socks-proxy … stdin`). */
export interface ProxyPasswordPrompt {
  kind: 'proxy-password';
  id: string;
  sessionId: string;
  profileId: string;
  profileName: string;
  /** Which proxy, as host:port: the user must tell its password from the VPN's. */
  proxy: string;
  /** Username to prefill (the one refused last time, when asking again). */
  username: string | null;
  /** Offer to keep them in the secret store (it persists). */
  canRemember: boolean;
  /** Set when asking again after the proxy refused the previous answer. */
  retryReason: string | null;
  timeoutMs: number;
}

export type PromptRequest = CredentialsPrompt | ChallengePrompt | ProxyPasswordPrompt;

export type PromptAnswer =
  | { kind: 'credentials'; username: string; password: string; response: string | null; remember: boolean }
  | { kind: 'challenge'; response: string }
  | { kind: 'proxy-password'; username: string; password: string; remember: boolean };

export interface Prompter {
  /** Resolves with the answer, or null when the user cancelled. Must settle soon after `signal` aborts. */
  ask(request: PromptRequest, signal: AbortSignal): Promise<PromptAnswer | null>;
}
