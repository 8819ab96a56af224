// The OAuth redirect listener for native apps (RFC 8252 §7.3): a random port on the 127.0.0.1
// literal (not "localhost", never 0.0.0.0), exactly one `GET /callback`, then closed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackRedirect {
  /** http://127.0.0.1:<port>/callback */
  readonly redirectUri: string;
  /** The full callback URL the browser was sent to (query checked by the caller). */
  readonly callback: Promise<URL>;
  close(): void;
}

const page = (title: string, text: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title></head>
<body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p>
<script>setTimeout(function () { window.close(); }, 500);</script></body></html>`;

export async function startLoopbackRedirect(options: { timeoutMs: number; signal?: AbortSignal }): Promise<LoopbackRedirect> {
  let settle!: { resolve: (u: URL) => void; reject: (e: Error) => void };
  const callback = new Promise<URL>((resolve, reject) => (settle = { resolve, reject }));
  callback.catch(() => undefined);
  let done = false;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', redirectUri);
    if (done || req.method !== 'GET' || url.pathname !== '/callback') {
      res.writeHead(404, { 'content-type': 'text/plain', connection: 'close' }).end('Not found\n');
      return;
    }
    done = true;
    const failed = url.searchParams.has('error');
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', connection: 'close' })
      .end(
        failed
          ? page('Sign-in did not complete', 'Return to Causeway for details. You may close this window.')
          : page('Signed in', 'Causeway is connecting you now. You may close this window.'),
      );
    settle.resolve(url);
    stop();
  });

  const timer = setTimeout(() => {
    settle.reject(new Error(`No sign-in arrived from the browser within ${Math.max(1, Math.round(options.timeoutMs / 60_000))} minute(s).`));
    stop();
  }, options.timeoutMs);
  const onAbort = () => {
    settle.reject(new Error('Sign-in was cancelled.'));
    stop();
  };
  function stop() {
    done = true;
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    server.close();
    setImmediate(() => server.closeAllConnections());
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    redirectUri,
    callback,
    close: () => {
      if (!done) settle.reject(new Error('Sign-in was cancelled.'));
      stop();
    },
  };
}
