// The lab's throwaway PKI, made by make-pki.sh (the one generator every cross-process test
// uses, the Rust interop lab too): nothing secret is ever committed. Everything is returned as
// PEM text (what an EngineConfig carries) and also lives as files in `dir` (what the openvpn
// server reads).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './exec.js';

export interface CertAndKey {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

export interface Pki {
  dir: string;
  ca: string;
  caPath: string;
  /** A CA that signed nothing the server uses: a client trusting only it must reject the server. */
  otherCa: string;
  /** CN "server", EKU serverAuth, RSA 2048. */
  server: CertAndKey;
  /** Same CA and CN, but its validity ended in 2021. */
  expiredServer: CertAndKey;
  /** Same CA and CN, valid, but revoked in `crl`. */
  revokedServer: CertAndKey;
  /** The CA's revocation list (PEM), listing revokedServer. */
  crl: string;
  /** A self-signed server certificate (CN "selfsigned", serverAuth) that no CA issued. */
  selfSignedServer: CertAndKey & { sha256: string };
  clientRsa: CertAndKey;
  clientEc: CertAndKey;
  /** `openvpn --genkey secret` (tls-auth). */
  tlsAuthKey: string;
  tlsAuthPath: string;
  tlsCryptKey: string;
  tlsCryptPath: string;
  tlsCryptV2ServerPath: string;
  /** The client's tls-crypt-v2 key (client key + wrapped key). */
  tlsCryptV2Client: string;
}

const MAKE_PKI = join(dirname(fileURLToPath(import.meta.url)), 'make-pki.sh');

export async function createPki(dir: string): Promise<Pki> {
  await run('bash', [MAKE_PKI, dir], { timeoutMs: 180_000 });
  const path = (f: string) => join(dir, f);
  const read = (f: string) => readFileSync(path(f), 'utf8');
  const pair = (name: string): CertAndKey => ({
    cert: read(`${name}.crt`),
    key: read(`${name}.key`),
    certPath: path(`${name}.crt`),
    keyPath: path(`${name}.key`),
  });
  return {
    dir,
    ca: read('ca.crt'),
    caPath: path('ca.crt'),
    otherCa: read('other-ca.crt'),
    server: pair('server'),
    expiredServer: pair('server-expired'),
    revokedServer: pair('server-revoked'),
    crl: read('crl.pem'),
    selfSignedServer: { ...pair('server-self-signed'), sha256: new X509Certificate(read('server-self-signed.crt')).fingerprint256 },
    clientRsa: pair('client-rsa'),
    clientEc: pair('client-ec'),
    tlsAuthKey: read('ta.key'),
    tlsAuthPath: path('ta.key'),
    tlsCryptKey: read('tc.key'),
    tlsCryptPath: path('tc.key'),
    tlsCryptV2ServerPath: path('v2-server.key'),
    tlsCryptV2Client: read('v2-client.key'),
  };
}
