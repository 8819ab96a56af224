// OpenVPN pending authentication as OpenVPN Access Server and openvpn-auth-oauth2 do it, on a
// stock openvpn 2.6 server (`management-client-auth`, recipe A of the peers reference §5.2):
//  - webauth / openurl: `client-pending-auth … "WEB_AUTH::<url>"` (or `OPEN_URL:<url>`), where the
//    URL is this peer's own little sign-in page on 127.0.0.1; submitting the right password there
//    lets the VPN client in (`client-auth`), a wrong one denies it;
//  - crtext: `client-pending-auth … "CR_TEXT:R,E:<question>"`, then the client's CR_RESPONSE
//    (base64) is checked against the expected answer.
// The server must see IV_SSO from the client announcing the method, as real servers require.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { LineSplitter } from '../lab/lines.js';

export type PendingMode = 'webauth' | 'openurl' | 'crtext';

export interface PendingAuthPeerOptions {
  socketPath: string;
  mode: PendingMode;
  /** The sign-in page's password (webauth/openurl) or the CR_TEXT answer. */
  secret: string;
  /** Seconds the server gives the client (sent in client-pending-auth). */
  timeoutSec: number;
  /** Overrides the URL sent to the client (e.g. one the client must refuse to open). */
  urlOverride?: string;
  banner?: string;
}

interface Request {
  cid: string;
  kid: string;
  env: Map<string, string>;
}

const SIGN_IN_PAGE = (action: string) => `<!doctype html><html><head><meta charset="utf-8"><title>Corp VPN sign-in</title></head>
<body><h1>Sign in to the VPN</h1>
<form method="post" action="${action}"><input name="username" autocomplete="username">
<input name="password" type="password"><button type="submit">Sign in</button></form></body></html>`;

export class PendingAuthPeer {
  readonly events: string[] = [];
  private readonly lines = new LineSplitter((line) => this.onLine(line));
  private current: { kind: 'CONNECT' | 'CR_RESPONSE'; request: Request; response?: string } | null = null;
  /** Web sign-in sessions: token in the URL → the waiting VPN client. */
  private readonly pending = new Map<string, Request>();

  private constructor(
    private readonly options: PendingAuthPeerOptions,
    private readonly socket: net.Socket,
    private readonly web: http.Server,
    readonly webBase: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => this.lines.push(d));
    web.on('request', (req, res) => this.onWeb(req, res));
  }

  static async start(options: PendingAuthPeerOptions): Promise<PendingAuthPeer> {
    const web = http.createServer();
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    const socket = net.createConnection(options.socketPath);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      });
    } catch (e) {
      web.close();
      throw e;
    }
    return new PendingAuthPeer(options, socket, web, `http://127.0.0.1:${(web.address() as AddressInfo).port}`);
  }

  close(): void {
    this.socket.destroy();
    this.web.closeAllConnections();
    this.web.close();
  }

  private onLine(line: string): void {
    const connect = /^>CLIENT:(?:CONNECT|REAUTH),(\d+),(\d+)$/.exec(line);
    if (connect) {
      this.current = { kind: 'CONNECT', request: { cid: connect[1]!, kid: connect[2]!, env: new Map() } };
      return;
    }
    const cr = /^>CLIENT:CR_RESPONSE,(\d+),(\d+),(.*)$/.exec(line);
    if (cr) {
      this.current = { kind: 'CR_RESPONSE', request: { cid: cr[1]!, kid: cr[2]!, env: new Map() }, response: cr[3]! };
      return;
    }
    if (line.startsWith('>CLIENT:ENV,') && this.current) {
      const kv = line.slice('>CLIENT:ENV,'.length);
      if (kv !== 'END') {
        const eq = kv.indexOf('=');
        if (eq > 0) this.current.request.env.set(kv.slice(0, eq), kv.slice(eq + 1));
        return;
      }
      const done = this.current;
      this.current = null;
      if (done.kind === 'CONNECT') this.onConnect(done.request);
      else this.onCrResponse(done.request, done.response ?? '');
    }
  }

  private onConnect(r: Request): void {
    const sso = (r.env.get('IV_SSO') ?? '').split(',');
    const method = this.options.mode;
    if (!sso.includes(method)) {
      this.events.push(`denied: client does not support ${method}`);
      this.send(`client-deny ${r.cid} ${r.kid} "no ${method} support" "This server needs a client that supports ${method} sign-in"`);
      return;
    }
    let extra: string;
    if (method === 'crtext') {
      extra = 'CR_TEXT:R,E:Enter the code from your authenticator app';
    } else {
      const token = randomBytes(12).toString('hex');
      this.pending.set(token, r);
      const url = this.options.urlOverride ?? `${this.webBase}/signin?s=${token}`;
      extra = method === 'webauth' ? `WEB_AUTH::${url}` : `OPEN_URL:${url}`;
    }
    this.events.push(`pending ${method}`);
    this.send(`client-pending-auth ${r.cid} ${r.kid} "${extra}" ${this.options.timeoutSec}`);
  }

  private onCrResponse(r: Request, base64: string): void {
    const answer = Buffer.from(base64, 'base64').toString('utf8');
    if (answer === this.options.secret) this.allow(r);
    else this.deny(r, 'Wrong code');
  }

  private onWeb(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.webBase);
    const token = url.searchParams.get('s') ?? '';
    const r = this.pending.get(token);
    if (url.pathname !== '/signin' || !r) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('unknown sign-in\n');
      return;
    }
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(SIGN_IN_PAGE(`/signin?s=${token}`));
      return;
    }
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      this.pending.delete(token);
      if (form.get('password') === this.options.secret) {
        this.allow(r);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<p>Signed in. You may close this window.</p>');
      } else {
        this.deny(r, 'Web sign-in failed');
        res.writeHead(403, { 'content-type': 'text/html; charset=utf-8' }).end('<p>Wrong password.</p>');
      }
    });
  }

  private allow(r: Request): void {
    this.events.push('allowed');
    const lines = [`client-auth ${r.cid} ${r.kid}`];
    if (this.options.banner) lines.push(`push "echo ${this.options.banner.replace(/[\\"]/g, '\\$&')}"`);
    lines.push('END');
    this.send(lines.join('\n'));
  }

  private deny(r: Request, why: string): void {
    this.events.push(`denied: ${why}`);
    this.send(`client-deny ${r.cid} ${r.kid} "${why}" "${why}"`);
  }

  private send(command: string): void {
    this.socket.write(`${command}\n`);
  }
}

/** Server lines that hand authentication to a PendingAuthPeer on `socketPath` (no client certificate). */
export function pendingAuthServerLines(socketPath: string): string[] {
  return [
    'verify-client-cert none',
    'auth-user-pass-optional',
    'username-as-common-name',
    `management ${socketPath} unix`,
    'management-client-auth',
    // The pending timeout cannot exceed hand-window.
    'hand-window 120',
  ];
}
