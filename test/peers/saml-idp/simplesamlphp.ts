// SimpleSAMLphp (Debian's package) as a real SAML 2.0 IdP on 127.0.0.1, configured like the IdPs
// AWS Client VPN customers use: SP `urn:amazon:webservices:clientvpn`, ACS http://127.0.0.1:35001/,
// NameID = email, a `memberOf` group attribute, signed Response AND signed Assertion.
//
// Everything lives in a private temp folder (config, metadata, a signing key generated now, logs);
// /etc/simplesamlphp is only read as the template. The PHP built-in server is started here and
// must be stopped with stop() (tests do it in afterAll).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const AWS_SP_ENTITY_ID = 'urn:amazon:webservices:clientvpn';
export const AWS_ACS_URL = 'http://127.0.0.1:35001/';
const WWW = '/usr/share/simplesamlphp/www';
const TEMPLATE = '/etc/simplesamlphp/config.php';

export interface IdpUser {
  password: string;
  email: string;
  groups: string[];
}

export interface SimpleSamlIdp {
  baseUrl: string;
  /** HTTP-Redirect SSO endpoint (the SP's entry point). */
  ssoUrl: string;
  entityId: string;
  /** PEM signing certificate (what AWS IAM's SAML provider would hold). */
  certPem: string;
  users: Record<string, IdpUser>;
  stop(): Promise<void>;
}

/**
 * Test users: alice (normal, ≈9 KB response), bob (another group), "many" (hundreds of groups,
 * ≈60 KB) and "huge" (≈120 KB, near AWS's 128 KB limit: beyond what u16 framing can carry).
 */
export function defaultUsers(manyGroups = 330, hugeGroups = 720): Record<string, IdpUser> {
  const groups = (n: number) =>
    Array.from({ length: n }, (_, i) => `arn:aws:iam::123456789012:group/engineering-team-${String(i).padStart(4, '0')}`);
  return {
    alice: { password: 'alice-Pass-1', email: 'alice@example.test', groups: ['vpn-users'] },
    bob: { password: 'bob-Pass-1', email: 'bob@example.test', groups: ['contractors'] },
    many: { password: 'many-Pass-1', email: 'many@example.test', groups: ['vpn-users', ...groups(manyGroups)] },
    huge: { password: 'huge-Pass-1', email: 'huge@example.test', groups: ['vpn-users', ...groups(hugeGroups)] },
  };
}

const php = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function replaceOrFail(text: string, pattern: RegExp, replacement: string): string {
  if (!pattern.test(text)) throw new Error(`SimpleSAMLphp config template changed: ${pattern} not found in ${TEMPLATE}`);
  return text.replace(pattern, replacement);
}

function writeConfig(dir: string, baseUrl: string, users: Record<string, IdpUser>): void {
  let cfg = readFileSync(TEMPLATE, 'utf8');
  const set = (key: string, value: string) => {
    // Anchored at the start of a line: the template also mentions some keys inside comments.
    const pattern = new RegExp(`^(\\s*)'${key.replace(/\./g, '\\.')}'\\s*=>[^\\n]*,`, 'm');
    cfg = replaceOrFail(cfg, pattern, `$1'${key}' => ${value},`);
  };
  set('baseurlpath', php(`${baseUrl}/`));
  set('certdir', php(`${dir}/cert/`));
  set('loggingdir', php(`${dir}/log/`));
  set('datadir', php(`${dir}/data/`));
  set('tempdir', php(`${dir}/tmp`));
  set('metadatadir', php(`${dir}/metadata/`));
  set('logging.handler', "'file'");
  set('enable.saml20-idp', 'true');
  set('session.cookie.secure', 'false');
  // Chromium drops SameSite=None cookies without Secure over http: the login session would be lost.
  set('session.cookie.samesite', "'Lax'");
  cfg = replaceOrFail(cfg, /^(\s*)'exampleauth'\s*=>\s*false,/m, "$1'exampleauth' => true,");
  cfg = replaceOrFail(
    cfg,
    /^require_once\('\/var\/lib\/simplesamlphp\/secrets\.inc\.php'\);/m,
    `$config['secretsalt'] = ${php(crypto.randomUUID())};\n$config['auth.adminpassword'] = ${php(crypto.randomUUID())};`,
  );
  writeFileSync(join(dir, 'config', 'config.php'), cfg);

  const userEntries = Object.entries(users)
    .map(
      ([name, u]) =>
        `    ${php(`${name}:${u.password}`)} => ['uid' => [${php(name)}], 'email' => [${php(u.email)}], 'memberOf' => [${u.groups.map(php).join(', ')}]],`,
    )
    .join('\n');
  writeFileSync(
    join(dir, 'config', 'authsources.php'),
    `<?php\n$config = [\n  'admin' => ['core:AdminPassword'],\n  'test-users' => [\n    'exampleauth:UserPass',\n${userEntries}\n  ],\n];\n`,
  );
  writeFileSync(
    join(dir, 'metadata', 'saml20-idp-hosted.php'),
    `<?php\n$metadata['__DYNAMIC:1__'] = [\n  'host' => '__DEFAULT__',\n  'privatekey' => 'idp.key',\n  'certificate' => 'idp.crt',\n  'auth' => 'test-users',\n  'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',\n];\n`,
  );
  writeFileSync(
    join(dir, 'metadata', 'saml20-sp-remote.php'),
    `<?php\n// AWS Client VPN as AWS documents the SP: audience ${AWS_SP_ENTITY_ID}, ACS ${AWS_ACS_URL}.\n` +
      `$metadata[${php(AWS_SP_ENTITY_ID)}] = [\n` +
      `  'AssertionConsumerService' => [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => ${php(AWS_ACS_URL)}]],\n` +
      `  'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',\n` +
      `  'simplesaml.nameidattribute' => 'email',\n  'simplesaml.attributes' => true,\n  'attributes' => ['email', 'memberOf'],\n` +
      `  'saml20.sign.response' => true,\n  'saml20.sign.assertion' => true,\n  'validate.authnrequest' => false,\n];\n`,
  );
}

/** Starts the IdP; resolves once its metadata answers. */
export async function startSimpleSamlIdp(options: { users?: Record<string, IdpUser> } = {}): Promise<SimpleSamlIdp> {
  const users = options.users ?? defaultUsers();
  const dir = mkdtempSync(join(tmpdir(), 'causeway-ssp-'));
  for (const sub of ['config', 'metadata', 'cert', 'log', 'data', 'tmp']) mkdirSync(join(dir, sub));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', '/CN=causeway-test-idp',
      '-keyout', join(dir, 'cert', 'idp.key'), '-out', join(dir, 'cert', 'idp.crt')],
    { stdio: 'ignore' },
  );
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  writeConfig(dir, baseUrl, users);

  const child: ChildProcess = spawn('php', ['-S', `127.0.0.1:${port}`, '-t', WWW], {
    env: { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: join(dir, 'config') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const metadataUrl = `${baseUrl}/saml2/idp/metadata.php`;
  const deadline = Date.now() + 15_000;
  let metadata = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    metadata = await fetch(metadataUrl)
      .then((r) => (r.ok ? r.text() : ''))
      .catch(() => '');
    if (metadata.includes('EntityDescriptor')) break;
    await new Promise((r) => setTimeout(r, 150));
  }
  const entityId = /entityID="([^"]+)"/.exec(metadata)?.[1];
  if (!entityId) {
    await stop();
    throw new Error(`SimpleSAMLphp did not start on ${baseUrl}: ${stderr.trim().slice(-500) || 'no metadata'}`);
  }
  return {
    baseUrl,
    ssoUrl: `${baseUrl}/saml2/idp/SSOService.php`,
    entityId,
    certPem: readFileSync(join(dir, 'cert', 'idp.crt'), 'utf8'),
    users,
    stop,
  };
}
