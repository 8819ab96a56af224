// AWS Client VPN federated login ("auth-federate"), the client's half:
//  1. first attempt with username `N/A`, password `ACS::35001` (declares the ACS port);
//  2. the endpoint answers `AUTH_FAILED,CRV1:R:<state>:b'…':<IdP URL>`;
//  3. bind the ACS listener, then open the IdP URL; the IdP posts the SAMLResponse back;
//  4. the engine reconnects to the same resolved address with `CRV1::<state>::<SAMLResponse>`.
// The assertion is single-use: it is handed to the engine once and never kept or retried. A
// challenge arriving again right after an answer means the endpoint refused that assertion, so
// instead of opening tab after tab the flow stops with the reason.
import { checkOpenableUrl, type BrowserOpener } from './browser.js';
import { parseCrv1 } from './crv1.js';
import { AWS_ACS_PORT, DEFAULT_ACS_TIMEOUT_MS, authnRequestId, startAcsListener } from './saml-acs.js';

export const AWS_FIRST_LEG = { username: 'N/A', password: `ACS::${AWS_ACS_PORT}` } as const;

export class AwsSamlError extends Error {
  override name = 'AwsSamlError';
}

/** What the user should see while the flow runs. */
export type AwsSamlStatus =
  | { kind: 'opening-browser'; host: string }
  | { kind: 'waiting-for-browser'; timeoutSec: number }
  | { kind: 'browser-done' };

export interface AwsSamlOptions {
  opener: BrowserOpener;
  acsPort?: number;
  acsTimeoutMs?: number;
}

export class AwsSamlFlow {
  /** Sessions whose assertion was handed out and not yet followed by a connected tunnel. */
  private readonly awaitingOutcome = new Set<string>();
  /** One browser login per session at a time: a repeated challenge joins the running one. */
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly options: AwsSamlOptions) {}

  /** Credentials for the first attempt of an `auth-federate` profile. */
  firstLegCredentials(): { username: string; password: string } {
    return { ...AWS_FIRST_LEG };
  }

  /**
   * Answers the CRV1 challenge (raw `AUTH_FAILED,CRV1:…` text or just the IdP URL) with the
   * SAMLResponse the browser delivers. The engine builds `CRV1::<state>::<answer>` itself.
   */
  answer(session: string, challenge: string, signal: AbortSignal, status: (s: AwsSamlStatus) => void): Promise<string> {
    const running = this.inFlight.get(session);
    if (running) return running;
    if (this.awaitingOutcome.has(session)) {
      this.awaitingOutcome.delete(session);
      return Promise.reject(
        new AwsSamlError(
          'The VPN endpoint did not accept the sign-in (the SAML assertion was refused). ' +
            'Check with your administrator that your account may use this VPN, then connect again.',
        ),
      );
    }
    const login = this.login(idpUrlOf(challenge), signal, status)
      .then((response) => {
        this.awaitingOutcome.add(session);
        return response;
      })
      .finally(() => this.inFlight.delete(session));
    this.inFlight.set(session, login);
    return login;
  }

  /** The tunnel came up: a later challenge (session expired, no auth-token) is a fresh login. */
  connected(session: string): void {
    this.awaitingOutcome.delete(session);
  }

  /** The connection ended: forget everything about the session. */
  ended(session: string): void {
    this.awaitingOutcome.delete(session);
    this.inFlight.delete(session);
  }

  private async login(idpUrl: URL, signal: AbortSignal, status: (s: AwsSamlStatus) => void): Promise<string> {
    const timeoutMs = this.options.acsTimeoutMs ?? DEFAULT_ACS_TIMEOUT_MS;
    // Bind first: if another program holds the port, fail before any browser tab opens.
    const acs = await startAcsListener({
      port: this.options.acsPort ?? AWS_ACS_PORT,
      timeoutMs,
      expectedRequestId: authnRequestId(idpUrl.href),
      signal,
    });
    try {
      status({ kind: 'opening-browser', host: idpUrl.host });
      await this.options.opener.open(idpUrl.href);
      status({ kind: 'waiting-for-browser', timeoutSec: Math.round(timeoutMs / 1000) });
      const response = await acs.response;
      status({ kind: 'browser-done' });
      return response;
    } finally {
      acs.close();
    }
  }
}

/** The IdP URL from a CRV1 challenge (raw or already parsed by the engine), checked before use. */
export function idpUrlOf(challenge: string): URL {
  const text = /^(AUTH_FAILED,)?CRV1:/.test(challenge.trim()) ? parseCrv1(challenge).text : challenge.trim();
  try {
    return checkOpenableUrl(text);
  } catch (e) {
    throw new AwsSamlError(`The VPN endpoint sent an unusable sign-in address. ${(e as Error).message}`);
  }
}
