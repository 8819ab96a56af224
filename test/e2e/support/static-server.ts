// Serves the built renderer (dist/renderer) on 127.0.0.1, the way Electron's app:// handler
// does: the same resolver, so only files inside that folder are ever served.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { resolveAppFile, APP_ORIGIN } from '../../../main/desktop/app-protocol';

export interface StaticServer {
  origin: string;
  close(): Promise<void>;
}

export async function serveRenderer(root: string): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const file = resolveAppFile(root, `${APP_ORIGIN}${req.url ?? '/'}`);
    if (!file || req.method !== 'GET') {
      res.writeHead(404).end();
      return;
    }
    readFile(file.path).then(
      (body) => res.writeHead(200, { 'content-type': file.mimeType }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
