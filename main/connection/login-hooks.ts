// The seam where federated login plugs into the connection manager (main/auth implements it):
// AWS SAML, OIDC tokens and OpenVPN web auth all need a browser, which the manager itself
// knows nothing about. Every hook is optional; without one the manager uses its fallback,
// noted on each hook.
import type { Profile } from '../../app/profile/model.js';
import type { SecretStore } from '../secrets/secret-store.js';

export interface LoginContext {
  profile: Profile;
  sessionId: string;
  secrets: SecretStore;
  /** Aborted when the session ends (user disconnect, timeout, failure). */
  signal: AbortSignal;
  /** Registers a secret (SAML response, token) so no log line ever shows it. */
  addSecret(secret: string): void;
  /** A line in the session's (redacted) log. */
  log(text: string): void;
}

export interface LoginFlows {
  /**
   * Before each connection attempt of profiles that need it (aws-saml first leg `N/A`/`ACS::35001`,
   * an OIDC token as password). Return null to connect without credentials.
   * Fallback: aws-saml profiles fail with a clear reason; others connect without.
   */
  credentialsBeforeConnect?(ctx: LoginContext): Promise<{ username: string; password: string } | null>;
  /**
   * A CRV1 challenge on an AWS SAML profile: run the browser login and return the answer the
   * engine sends as `CRV1::<state>::<answer>`. Return null to fall back to prompting the user
   * with the challenge text.
   */
  answerCrv1?(ctx: LoginContext, challenge: { text: string; username: string | null }): Promise<string | null>;
  /** AUTH_PENDING WEB_AUTH / OPEN_URL: open `url` in the browser. Fallback: `openUrl` of the manager. */
  openAuthUrl?(ctx: LoginContext, url: string, timeoutSec: number): Promise<void>;
  /** The session's tunnel came up (e.g. a SAML assertion was accepted). */
  connected?(sessionId: string): void;
  /** The session ended (disconnected or failed for good): forget per-session state. */
  ended?(sessionId: string): void;
}
