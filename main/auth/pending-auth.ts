// OpenVPN pending authentication (AUTH_PENDING), as OpenVPN Access Server, openvpn-auth-oauth2
// and deferred-auth scripts use it:
//  - WEB_AUTH / OPEN_URL: open the URL in the browser and wait; the server finishes the login out
//    of band and then pushes (or refuses) on the same session, within the timeout it announced;
//  - CR_TEXT: ask the user the server's question and answer with a cr-response.
import { checkOpenableUrl, type BrowserOpener } from './browser.js';

export interface PendingAuth {
  method: 'webauth' | 'openurl' | 'crtext';
  /** URL (webauth/openurl) or challenge text (crtext). */
  payload: string;
  echo: boolean;
  timeoutSec: number;
}

/** Asks the user a server's challenge question; resolves with the answer. */
export type ChallengePrompter = (request: { text: string; echo: boolean; timeoutSec: number }) => Promise<string>;

export type PendingAuthStatus =
  | { kind: 'waiting-for-browser'; host: string; timeoutSec: number }
  | { kind: 'waiting-for-answer'; timeoutSec: number };

export class PendingAuthError extends Error {
  override name = 'PendingAuthError';
}

/**
 * Handles one AUTH_PENDING announcement. Resolves with `{ crResponse }` for CR_TEXT, or null
 * when the browser was opened and the server will complete the login itself.
 */
export async function handlePendingAuth(
  pending: PendingAuth,
  deps: { opener: BrowserOpener; prompt: ChallengePrompter; status: (s: PendingAuthStatus) => void },
): Promise<{ crResponse: string } | null> {
  if (pending.method === 'crtext') {
    deps.status({ kind: 'waiting-for-answer', timeoutSec: pending.timeoutSec });
    const text = crTextQuestion(pending.payload);
    const answer = await deps.prompt({ text, echo: pending.echo, timeoutSec: pending.timeoutSec });
    return { crResponse: answer };
  }
  let url: URL;
  try {
    url = checkOpenableUrl(webAuthUrl(pending.payload));
  } catch (e) {
    throw new PendingAuthError(`The VPN server asked for a browser sign-in at an address Causeway will not open. ${(e as Error).message}`);
  }
  await deps.opener.open(url.href);
  deps.status({ kind: 'waiting-for-browser', host: url.host, timeoutSec: pending.timeoutSec });
  return null;
}

/**
 * The URL from a WEB_AUTH/OPEN_URL payload. Engines may pass the bare URL or the server's text:
 * `WEB_AUTH:<flags>:<url>` (flags such as `external`, `hidden`, `proxy=…`) or `OPEN_URL:<url>`.
 */
export function webAuthUrl(payload: string): string {
  const p = payload.trim();
  if (p.startsWith('WEB_AUTH:')) {
    const rest = p.slice('WEB_AUTH:'.length);
    return rest.slice(rest.indexOf(':') + 1);
  }
  if (p.startsWith('OPEN_URL:')) return p.slice('OPEN_URL:'.length);
  return p;
}

/** The question from a CR_TEXT payload: bare text, or `CR_TEXT:<flags>:<text>`. */
export function crTextQuestion(payload: string): string {
  const p = payload.trim();
  if (!p.startsWith('CR_TEXT:')) return p;
  const rest = p.slice('CR_TEXT:'.length);
  return rest.slice(rest.indexOf(':') + 1);
}
