// Stock openvpn as a client in the client namespace: the baseline the benchmark compares our
// helper with, and a way to check a lab server without our engine.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerInfo } from './openvpn-server.js';
import type { Pki } from './pki.js';

export function stockClientConfig(
  server: ServerInfo,
  pki: Pki,
  dir: string,
  credentials: { username: string; password: string },
  cipher?: string,
): string {
  const o = server.options;
  const lines = [
    'client',
    'dev tun',
    `proto ${o.proto === 'udp' ? 'udp4' : 'tcp4-client'}`,
    `remote ${server.address} ${server.port}`,
    'nobind',
    `ca ${pki.caPath}`,
    'remote-cert-tls server',
    'connect-retry-max 1',
    'verb 3',
  ];
  if (cipher) lines.push(`data-ciphers ${cipher}`);
  if (o.clientAuth !== 'password') lines.push(`cert ${pki.clientRsa.certPath}`, `key ${pki.clientRsa.keyPath}`);
  if (o.clientAuth !== 'cert') {
    const file = join(dir, `${server.name}-client-credentials`);
    writeFileSync(file, `${credentials.username}\n${credentials.password}\n`, { mode: 0o600 });
    lines.push(`auth-user-pass ${file}`);
  }
  if (o.tlsWrap === 'tls-auth') lines.push(`tls-auth ${pki.tlsAuthPath} 1`);
  if (o.tlsWrap === 'tls-crypt') lines.push(`tls-crypt ${pki.tlsCryptPath}`);
  if (o.tlsWrap === 'tls-crypt-v2') {
    const file = join(dir, 'v2-client.key');
    writeFileSync(file, pki.tlsCryptV2Client, { mode: 0o600 });
    lines.push(`tls-crypt-v2 ${file}`);
  }
  const path = join(dir, `${server.name}-client.conf`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
