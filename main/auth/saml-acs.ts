// The AWS Client VPN SAML assertion consumer service (ACS): the IdP's browser form posts the
// signed SAMLResponse to http://127.0.0.1:35001/ (a URL fixed by AWS, configured at every IdP).
//
// Rules, because another local program could otherwise catch or inject an assertion:
//  - bind 127.0.0.1 only, and BEFORE the browser opens (fail clearly when the port is taken);
//  - accept exactly one `POST /` with a form field `SAMLResponse` (body size-capped);
//  - when the login's AuthnRequest id is known, the response must answer that request
//    (InResponseTo), so a forged post for some other login is turned away;
//  - then stop listening; give up after a timeout.
// The assertion itself is validated by the VPN server, not here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inflateRawSync } from 'node:zlib';

/** The port AWS Client VPN tells every IdP to post to. */
export const AWS_ACS_PORT = 35001;
/** AWS accepts SAML responses up to 128 KB; form encoding and base64 can roughly double that. */
export const MAX_ACS_BODY_BYTES = 256 * 1024;
export const DEFAULT_ACS_TIMEOUT_MS = 5 * 60_000;

export class AcsError extends Error {
  constructor(
    readonly code: 'port-busy' | 'timeout' | 'cancelled' | 'listen-failed',
    message: string,
  ) {
    super(message);
    this.name = 'AcsError';
  }
}

export interface AcsOptions {
  port?: number;
  timeoutMs?: number;
  maxBodyBytes?: number;
  /** ID of the AuthnRequest this login sent; a response to any other request is refused. */
  expectedRequestId?: string | null;
  /** Stops waiting (the user cancelled the connection). */
  signal?: AbortSignal;
}

export interface AcsListener {
  /** Where the IdP must post: http://127.0.0.1:<port>/ */
  readonly url: string;
  /** Resolves with the SAMLResponse (standard base64) once the browser posted it. */
  readonly response: Promise<string>;
  /** Stops listening (idempotent); a pending `response` rejects as cancelled. */
  close(): void;
}

const DONE_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Causeway: signed in</title></head>
<body style="font-family:sans-serif;margin:3em">
<h1>Authentication details received</h1>
<p>Causeway is connecting you now. You may close this window at any time.</p>
<script>setTimeout(function () { window.close(); }, 500);</script>
</body></html>`;

function reply(res: http.ServerResponse, status: number, text: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close', ...headers }).end(`${text}\n`);
}

/** Form posts turn base64 `+` into spaces and some IdPs use the URL-safe alphabet; undo both. */
export function normalizeBase64(value: string): string {
  const std = value.trim().replace(/ /g, '+').replace(/-/g, '+').replace(/_/g, '/').replace(/[\r\n]/g, '');
  const pad = std.length % 4;
  return pad ? std + '='.repeat(4 - pad) : std;
}

/** The `ID` of the AuthnRequest carried by an HTTP-Redirect binding URL (`?SAMLRequest=`), if readable. */
export function authnRequestId(idpUrl: string): string | null {
  try {
    const encoded = new URL(idpUrl).searchParams.get('SAMLRequest');
    if (!encoded) return null;
    const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
    return /<(?:\w+:)?AuthnRequest\b[^>]*\sID="([^"]+)"/.exec(xml)?.[1] ?? null;
  } catch {
    return null;
  }
}

/** InResponseTo of the SAML Response element (the protocol message, not the assertion). */
function inResponseTo(samlResponse: string): string | null {
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  const root = /<(?:\w+:)?Response\b[^>]*>/.exec(xml)?.[0];
  return root ? (/\sInResponseTo="([^"]+)"/.exec(root)?.[1] ?? null) : null;
}

/**
 * Binds the ACS listener. Await this before opening the browser: it rejects with
 * AcsError('port-busy') when another program holds the port.
 */
export async function startAcsListener(options: AcsOptions = {}): Promise<AcsListener> {
  const port = options.port ?? AWS_ACS_PORT;
  const maxBody = options.maxBodyBytes ?? MAX_ACS_BODY_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_ACS_TIMEOUT_MS;
  const expectedId = options.expectedRequestId ?? null;

  let settle!: { resolve: (v: string) => void; reject: (e: Error) => void };
  const response = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  response.catch(() => undefined); // the caller handles it; avoid an unhandled rejection after close()
  let finished = false;

  const server = http.createServer((req, res) => {
    if (finished) return reply(res, 410, 'This sign-in has already finished.');
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path !== '/') return reply(res, 404, 'Not found.');
    if (req.method !== 'POST') return reply(res, 405, 'Only the identity provider’s POST is accepted here.', { allow: 'POST' });
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') return reply(res, 415, 'Expected a form post.');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) {
      reply(res, 413, 'The sign-in response is larger than Causeway accepts.');
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) {
        reply(res, 413, 'The sign-in response is larger than Causeway accepts.');
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > maxBody || finished) return;
      const value = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('SAMLResponse');
      if (!value) return reply(res, 400, 'The post carried no SAMLResponse.');
      const samlResponse = normalizeBase64(value);
      if (expectedId !== null && inResponseTo(samlResponse) !== expectedId) {
        return reply(res, 403, 'This sign-in response does not belong to the login Causeway started.');
      }
      finished = true;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', connection: 'close' }).end(DONE_PAGE);
      settle.resolve(samlResponse);
      stop();
    });
  });

  const timer = setTimeout(() => {
    settle.reject(
      new AcsError('timeout', `No sign-in arrived from the browser within ${Math.round(timeoutMs / 60_000) || 1} minute(s).`),
    );
    stop();
  }, timeoutMs);
  const onAbort = () => {
    settle.reject(new AcsError('cancelled', 'Sign-in was cancelled.'));
    stop();
  };

  function stop(): void {
    finished = true;
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    // Let the "you may close this window" page flush, then drop every connection.
    server.close();
    setImmediate(() => server.closeAllConnections());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        e.code === 'EADDRINUSE'
          ? new AcsError(
              'port-busy',
              `Cannot start the sign-in listener: port ${port} on 127.0.0.1 is in use by another program ` +
                '(another VPN client may be signing in). Close it and try again.',
            )
          : new AcsError('listen-failed', `Cannot start the sign-in listener on 127.0.0.1:${port}: ${e.code ?? e.message}`),
      );
    });
    server.listen(port, '127.0.0.1', () => resolve());
  });
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/`,
    response,
    close: () => {
      if (!finished) settle.reject(new AcsError('cancelled', 'Sign-in was cancelled.'));
      stop();
    },
  };
}
