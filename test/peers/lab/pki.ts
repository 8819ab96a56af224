// A throwaway PKI generated at test time with openssl and `openvpn --genkey`: nothing secret
// is ever committed. Everything is returned as PEM text (what an EngineConfig carries) and
// also lives as files in `dir` (what the openvpn server reads).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
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

const EXTENSIONS = `
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function caConfig(dir: string): string {
  return `
[ca]
default_ca = lab

[lab]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}
serial = ${dir}/serial
# A crlnumber makes openssl write v2 CRLs (what easy-rsa issues, and what the engine reads).
crlnumber = ${dir}/crlnumber
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none

[any]
commonName = supplied
${EXTENSIONS}`;
}

const openssl = (...args: string[]) => run('openssl', args);

/** A self-signed server certificate, as OpenVPN 2.6's peer-fingerprint setup uses. */
async function makeSelfSigned(dir: string, name: string, cn: string): Promise<CertAndKey & { sha256: string }> {
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.crt`);
  await openssl(
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', '365', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:FALSE',
    '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'extendedKeyUsage=serverAuth',
  );
  const cert = readFileSync(certPath, 'utf8');
  return { cert, key: readFileSync(keyPath, 'utf8'), certPath, keyPath, sha256: new X509Certificate(cert).fingerprint256 };
}

async function makeCa(dir: string, name: string, cn: string): Promise<string> {
  const certPath = join(dir, `${name}.crt`);
  await openssl(
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', join(dir, `${name}.key`), '-out', certPath, '-days', '3650', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  );
  return certPath;
}

interface LeafSpec {
  name: string;
  cn: string;
  keyAlg: 'rsa' | 'ec';
  ext: 'server_ext' | 'client_ext';
  /** openssl ca dates (YYYYMMDDHHMMSSZ); default: from yesterday for two years. */
  startDate?: string;
  endDate?: string;
}

async function makeLeaf(dir: string, spec: LeafSpec): Promise<CertAndKey> {
  const keyPath = join(dir, `${spec.name}.key`);
  const certPath = join(dir, `${spec.name}.crt`);
  const csr = join(dir, `${spec.name}.csr`);
  const keyArgs = spec.keyAlg === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'];
  await openssl('req', '-new', ...keyArgs, '-nodes', '-keyout', keyPath, '-out', csr, '-subj', `/CN=${spec.cn}`);
  const day = 86_400_000;
  const stamp = (t: number) => new Date(t).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  await openssl(
    'ca', '-batch', '-notext', '-config', join(dir, 'ca.cnf'), '-cert', join(dir, 'ca.crt'), '-keyfile', join(dir, 'ca.key'),
    '-in', csr, '-out', certPath, '-extensions', spec.ext,
    '-startdate', spec.startDate ?? stamp(Date.now() - day), '-enddate', spec.endDate ?? stamp(Date.now() + 730 * day),
  );
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, keyPath };
}

export async function createPki(dir: string): Promise<Pki> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'ca.cnf'), caConfig(dir));
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  const caPath = await makeCa(dir, 'ca', 'Causeway Lab CA');
  const otherCaPath = await makeCa(dir, 'other-ca', 'Causeway Other CA');
  // One after another: `openssl ca` updates the shared serial and index files.
  const server = await makeLeaf(dir, { name: 'server', cn: 'server', keyAlg: 'rsa', ext: 'server_ext' });
  const expiredServer = await makeLeaf(dir, {
    name: 'server-expired', cn: 'server', keyAlg: 'ec', ext: 'server_ext', startDate: '20200101000000Z', endDate: '20210101000000Z',
  });
  const revokedServer = await makeLeaf(dir, { name: 'server-revoked', cn: 'server', keyAlg: 'ec', ext: 'server_ext' });
  const caArgs = ['-config', join(dir, 'ca.cnf'), '-cert', join(dir, 'ca.crt'), '-keyfile', join(dir, 'ca.key')];
  await openssl('ca', '-batch', ...caArgs, '-revoke', revokedServer.certPath);
  await openssl('ca', '-batch', ...caArgs, '-gencrl', '-crldays', '30', '-out', join(dir, 'crl.pem'));
  const selfSignedServer = await makeSelfSigned(dir, 'server-self-signed', 'selfsigned');
  const clientRsa = await makeLeaf(dir, { name: 'client-rsa', cn: 'client-rsa', keyAlg: 'rsa', ext: 'client_ext' });
  const clientEc = await makeLeaf(dir, { name: 'client-ec', cn: 'client-ec', keyAlg: 'ec', ext: 'client_ext' });
  const path = (f: string) => join(dir, f);
  await run('openvpn', ['--genkey', 'secret', path('ta.key')]);
  await run('openvpn', ['--genkey', 'tls-crypt', path('tc.key')]);
  await run('openvpn', ['--genkey', 'tls-crypt-v2-server', path('v2-server.key')]);
  await run('openvpn', ['--tls-crypt-v2', path('v2-server.key'), '--genkey', 'tls-crypt-v2-client', path('v2-client.key')]);
  const read = (f: string) => readFileSync(path(f), 'utf8');
  return {
    dir,
    ca: read('ca.crt'),
    caPath,
    otherCa: readFileSync(otherCaPath, 'utf8'),
    server,
    expiredServer,
    revokedServer,
    crl: read('crl.pem'),
    selfSignedServer,
    clientRsa,
    clientEc,
    tlsAuthKey: read('ta.key'),
    tlsAuthPath: path('ta.key'),
    tlsCryptKey: read('tc.key'),
    tlsCryptPath: path('tc.key'),
    tlsCryptV2ServerPath: path('v2-server.key'),
    tlsCryptV2Client: read('v2-client.key'),
  };
}
