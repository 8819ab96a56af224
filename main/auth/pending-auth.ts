// OpenVPN pending authentication (AUTH_PENDING), as OpenVPN Access Server, openvpn-auth-oauth2
// and deferred-auth scripts use it: WEB_AUTH / OPEN_URL name a page to open in the browser (the
// server then finishes the login out of band and pushes, or refuses, within its timeout);
// CR_TEXT questions are asked by the connection manager's prompter and answered with cr-response.

/**
 * The URL from a WEB_AUTH/OPEN_URL payload. Engines may pass the bare URL or the server's text:
 * `WEB_AUTH:<flags>:<url>` (flags such as `external`, `hidden`, `proxy=…`) or `OPEN_URL:<url>`.
 * Callers still check the result with checkOpenableUrl before opening it.
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
