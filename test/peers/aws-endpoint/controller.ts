// The "AWS-like endpoint": drives an openvpn server (our patched build, see ../openvpn-patched)
// through its management interface (`management-client-auth`) the way AWS Client VPN behaves
// toward a client with `auth-federate`:
//  - `N/A` / `ACS::35001` → `AUTH_FAILED,CRV1:R:instance-1/<19 digits>/<uuid>:b'Ti9B':<IdP URL>`,
//    the URL being an SP-initiated AuthnRequest (HTTP-Redirect binding) made by node-saml;
//  - `N/A` / `CRV1::<state>::<SAMLResponse>` → validates the response with @node-saml/node-saml
//    (IdP signature on Response and Assertion, audience urn:amazon:webservices:clientvpn,
//    Destination http://127.0.0.1:35001/, InResponseTo our request), single use; then applies a
//    "client connect handler" (group check) and either pushes `echo` banner lines (the server's
//    auth-gen-token adds the auth-token) or denies with the handler's message, as AWS does.
// Nothing secret (passwords, SAML) is ever logged: `events` holds only outcomes.
import { createHash, randomInt, randomUUID } from 'node:crypto';
import net from 'node:net';
import { SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { LineSplitter } from '../lab/lines.js';

export const AWS_AUDIENCE = 'urn:amazon:webservices:clientvpn';
export const AWS_ACS_URL = 'http://127.0.0.1:35001/';
/** What AWS answers when a SAML assertion fails validation or is replayed. */
export const AWS_INVALID_MESSAGE = 'Invalid username or password';

export interface AwsEndpointOptions {
  /** The openvpn server's `management <path> unix` socket. */
  socketPath: string;
  idp: { ssoUrl: string; certPem: string };
  /** Banner lines pushed as `echo` after a successful login (AWS ClientLoginBannerOptions). */
  banner: string[];
  /** The client connect handler: users must be in this memberOf group... */
  requiredGroup: string;
  /** ...or are denied with this text (AWS shows `error-msg-on-denied-connection`). */
  deniedMessage: string;
  /** Every SAMLResponse received, for the secret-scan list (never logged here). */
  onSecret?: (secret: string) => void;
}

interface ClientRequest {
  kind: 'CONNECT' | 'REAUTH';
  cid: string;
  kid: string;
  env: Map<string, string>;
}

export class AwsEndpointController {
  /** Outcomes in order, e.g. "challenge", "accepted alice@example.test", "refused replay". */
  readonly events: string[] = [];
  private readonly saml: SAML;
  /** CRV1 state id → AuthnRequest expiry. */
  private readonly states = new Map<string, number>();
  /** SHA-256 of every SAMLResponse ever presented: an assertion works once. */
  private readonly seen = new Set<string>();
  /** Clients that logged in, so a renegotiation (REAUTH) needs no new browser login. */
  private readonly authenticated = new Set<string>();
  private readonly lines = new LineSplitter((line) => this.onLine(line));
  private pending: ClientRequest | null = null;
  private queue: Promise<void> = Promise.resolve();
  private waiters: { match: (e: string) => boolean; resolve: (e: string) => void }[] = [];

  private constructor(
    private readonly socket: net.Socket,
    private readonly options: AwsEndpointOptions,
  ) {
    this.saml = new SAML({
      entryPoint: options.idp.ssoUrl,
      issuer: AWS_AUDIENCE,
      callbackUrl: AWS_ACS_URL,
      audience: AWS_AUDIENCE,
      idpCert: options.idp.certPem,
      wantAuthnResponseSigned: true,
      wantAssertionsSigned: true,
      identifierFormat: null,
      disableRequestedAuthnContext: true,
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: 10 * 60_000,
      acceptedClockSkewMs: 5_000,
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.lines.push(chunk));
  }

  static async connect(options: AwsEndpointOptions): Promise<AwsEndpointController> {
    const socket = net.createConnection(options.socketPath);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new AwsEndpointController(socket, options);
  }

  /** Resolves with the first event (past or future) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const past = this.events.find((e) => pattern.test(e));
    if (past) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no endpoint event ${pattern} in ${timeoutMs} ms (saw: ${this.events.join('; ')})`)), timeoutMs);
      this.waiters.push({
        match: (e) => pattern.test(e),
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private event(text: string): void {
    this.events.push(text);
    for (const w of this.waiters.filter((w) => w.match(text))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(text);
    }
  }

  private onLine(line: string): void {
    const start = /^>CLIENT:(CONNECT|REAUTH),(\d+),(\d+)$/.exec(line);
    if (start) {
      this.pending = { kind: start[1] as 'CONNECT' | 'REAUTH', cid: start[2]!, kid: start[3]!, env: new Map() };
      return;
    }
    if (line.startsWith('>CLIENT:ENV,') && this.pending) {
      const kv = line.slice('>CLIENT:ENV,'.length);
      if (kv === 'END') {
        const request = this.pending;
        this.pending = null;
        // One decision at a time, in arrival order (validation is async).
        this.queue = this.queue.then(() => this.decide(request)).catch((e: Error) => this.event(`controller error ${e.message}`));
        return;
      }
      const eq = kv.indexOf('=');
      if (eq > 0) this.pending.env.set(kv.slice(0, eq), kv.slice(eq + 1));
      return;
    }
    const gone = /^>CLIENT:DISCONNECT,(\d+)$/.exec(line);
    if (gone) this.authenticated.delete(gone[1]!);
    if (line.startsWith('ERROR:')) this.event(`management ${line}`);
  }

  private async decide(r: ClientRequest): Promise<void> {
    const password = r.env.get('password') ?? '';
    if (r.kind === 'REAUTH' && this.authenticated.has(r.cid)) {
      this.send(`client-auth-nt ${r.cid} ${r.kid}`);
      return;
    }
    // A valid auth-token the server itself checked (auth-gen-token): AWS lets it in without SAML.
    if ((r.env.get('session_state') ?? '').startsWith('Authenticated')) {
      this.event('accepted auth-token');
      this.authenticated.add(r.cid);
      this.send(`client-auth-nt ${r.cid} ${r.kid}`);
      return;
    }
    if (password === 'ACS::35001') return this.challenge(r);
    if (password.startsWith('CRV1::')) return this.verify(r, password);
    this.event('refused not-federated');
    this.deny(r, 'not a federated login', AWS_INVALID_MESSAGE);
  }

  private async challenge(r: ClientRequest): Promise<void> {
    const state = `instance-1/${String(randomInt(1e9, 1e10 - 1))}${String(randomInt(1e8, 1e9))}/${randomUUID()}`;
    const url = await this.saml.getAuthorizeUrlAsync('', undefined, {});
    this.states.set(state, Date.now() + 10 * 60_000);
    this.event('challenge');
    this.deny(r, 'federated login required', `CRV1:R:${state}:b'Ti9B':${url}`);
  }

  private async verify(r: ClientRequest, password: string): Promise<void> {
    const rest = password.slice('CRV1::'.length);
    const sep = rest.indexOf('::');
    const state = sep >= 0 ? rest.slice(0, sep) : '';
    const raw = sep >= 0 ? rest.slice(sep + 2) : '';
    const expires = this.states.get(state);
    if (expires === undefined || expires < Date.now()) {
      this.event('refused unknown-state');
      return this.deny(r, 'unknown CRV1 state', AWS_INVALID_MESSAGE);
    }
    // Clients send the SAMLResponse either as is or URL-encoded; AWS accepts both.
    const samlResponse = raw.includes('%') ? decodeURIComponent(raw) : raw;
    this.options.onSecret?.(samlResponse);
    const digest = createHash('sha256').update(samlResponse).digest('hex');
    if (this.seen.has(digest)) {
      this.event('refused replay');
      return this.deny(r, 'SAML assertion replayed', AWS_INVALID_MESSAGE);
    }
    this.seen.add(digest);
    let profile;
    try {
      ({ profile } = await this.saml.validatePostResponseAsync({ SAMLResponse: samlResponse }));
      const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
      const destination = /<(?:\w+:)?Response\b[^>]*\sDestination="([^"]+)"/.exec(xml)?.[1];
      if (destination !== AWS_ACS_URL) throw new Error(`Destination ${destination ?? 'missing'}`);
    } catch (e) {
      this.event(`refused invalid-saml (${(e as Error).message.slice(0, 120)})`);
      return this.deny(r, 'SAML validation failed', AWS_INVALID_MESSAGE);
    }
    this.states.delete(state);
    const groups = ([] as unknown[]).concat(profile?.['memberOf'] ?? []).map(String);
    const who = String(profile?.nameID ?? '?');
    if (!groups.includes(this.options.requiredGroup)) {
      this.event(`denied ${who} by connect handler`);
      return this.deny(r, 'client connect handler denied', this.options.deniedMessage);
    }
    this.authenticated.add(r.cid);
    this.event(`accepted ${who} (${Buffer.byteLength(samlResponse)} byte SAMLResponse, ${groups.length} groups)`);
    const lines = [`client-auth ${r.cid} ${r.kid}`, ...this.options.banner.map((b) => `push "echo ${quote(b)}"`), 'END'];
    this.send(lines.join('\n'));
  }

  private deny(r: ClientRequest, reason: string, clientReason: string): void {
    this.send(`client-deny ${r.cid} ${r.kid} "${quote(reason)}" "${quote(clientReason)}"`);
  }

  private send(command: string): void {
    this.socket.write(`${command}\n`);
  }
}

/** Management and config quoting: backslash-escape `\` and `"`. */
function quote(s: string): string {
  return s.replace(/[\\"]/g, '\\$&');
}
