// Applies the import policy to parsed directives and builds the normalized ProfileSettings.
// Each kept directive has a handler that validates its arguments (a bad argument refuses the
// profile, with the line) and records its value; stripped and unknown directives become
// warnings; refusals are collected so the user sees every reason at once.
import { ProfileError, type ProfileIssue } from './errors.js';
import type { Directive } from './lexer.js';
import type { DataCipher, Proto, ProfileSettings, Remote, VerifyX509Name } from './model.js';
import { formatIpv4, isHostname, isIpv6, maskIpv4, netmaskToPrefix, parseIpv4, parseIpv6Cidr } from './net.js';
import { certificates, privateKey, staticKey, tlsCryptV2ClientKey } from './pem.js';
import { NO_EFFECT, REFUSED, STRIPPED } from './policy.js';

/**
 * Reads a file a directive refers to (`ca ca.crt`), relative to the profile's folder.
 * Must throw ProfileError (with a user-readable reason) when the reference is refused or unreadable.
 */
export type ReadReference = (path: string, directive: string, line: number) => Uint8Array | string;

/** What a PKCS#12 bundle holds, PEM; the key is unencrypted PKCS#8 (a secret). */
export interface Pkcs12Contents {
  cert: string;
  /** The other certificates of the bundle (CA and intermediates), or null. */
  chain: string | null;
  key: string;
}

/** Opens a PKCS#12 bundle (DER) without a password; throws ProfileError when it cannot. */
export type ReadPkcs12 = (der: Uint8Array) => Pkcs12Contents;

export interface NormalizeOptions {
  /** Absent when the profile came without its folder (e.g. pasted text): file references are refused. */
  readReference?: ReadReference;
  /** Absent where no PKCS#12 reader is available: `pkcs12` profiles are refused. */
  readPkcs12?: ReadPkcs12;
}

/** Secrets found in the profile; they go to the SecretStore, never into ProfileSettings. */
export interface ProfileSecrets {
  key: string | null;
  password: string | null;
}

export interface NormalizeResult {
  /** Null when the profile is refused (errors is then non-empty). */
  settings: ProfileSettings | null;
  secrets: ProfileSecrets;
  warnings: ProfileIssue[];
  errors: ProfileIssue[];
}

/** Profiles with more routes than this are refused: they would flood the routing table. */
export const MAX_ROUTES = 4096;

const SUPPORTED_CIPHERS: readonly DataCipher[] = ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305'];
const AWS_HOST = /^(?:[^.]+\.)?(cvpn-endpoint-[0-9a-f]+)\.prod\.clientvpn\.([a-z0-9-]+)\.amazonaws\.com\.?$/i;

interface RemoteDraft {
  host: string;
  port: number | null;
  proto: Proto | null;
  line: number;
  /** Came from a <connection> block; then its defaults: */
  inBlock: boolean;
  blockPort: number | null;
  blockProto: Proto | null;
}

/** Mutable state while walking the directives. */
class Draft {
  remotes: RemoteDraft[] = [];
  defaultPort = 1194;
  defaultProto: Proto = 'udp';
  remoteRandom = false;
  remoteRandomHostname = false;
  connectRetry = { initialSec: 1, maxSec: 300 };
  connectRetryMax: number | null = null;
  handshakeWindowSec = 60;
  connectTimeoutSec = 120;
  explicitExitNotify = 0;
  ca: string | null = null;
  extraCerts: string | null = null;
  cert: string | null = null;
  key: string | null = null;
  tlsAuth: { key: string; direction: 0 | 1 | null; line: number } | null = null;
  keyDirection: 0 | 1 | null = null;
  tlsCrypt: string | null = null;
  tlsCryptV2: string | null = null;
  authDigest: string | null = null;
  authDigestLine = 0;
  tlsVersionMin: '1.2' | '1.3' = '1.2';
  tlsVersionMax: '1.2' | '1.3' | null = null;
  dataCiphers: DataCipher[] | null = null;
  remoteCertTls: 'server' | null = null;
  verifyX509Name: VerifyX509Name | null = null;
  userPass = false;
  staticChallenge: { text: string; echo: boolean } | null = null;
  authRetry: 'none' | 'nointeract' | 'interact' = 'none';
  authNoCache = false;
  federate = false;
  username: string | null = null;
  password: string | null = null;
  compression: ProfileSettings['compression'] = 'none';
  ping: number | null = null;
  pingRestart: number | null = null;
  renegSec = 3600;
  renegBytes: number | null = null;
  tunMtu = 1500;
  mssFix: number | null = null;
  inactiveSec: number | null = null;
  routeNoPull = false;
  routes: string[] = [];
  excludedRoutes: string[] = [];
  routesIpv6: string[] = [];
  redirectGateway: ProfileSettings['redirectGateway'] = null;
  dns = { servers: [] as string[], searchDomains: [] as string[], routeDomains: [] as string[] };
  ifconfigIpv6: ProfileSettings['ifconfigIpv6'] = null;
  blockIpv6 = false;
  blockOutsideDns = false;
  peerInfo: Record<string, string> = {};
  pushPeerInfo = false;
  /** CA and intermediates that came in a PKCS#12 bundle. */
  pkcs12Chain: string | null = null;
}

class Normalizer {
  readonly d = new Draft();
  readonly warnings: ProfileIssue[] = [];
  readonly errors: ProfileIssue[] = [];
  /** Directives that were present but refused, so "missing X" is not reported on top. */
  private readonly failed = new Set<string>();
  /** Inline blocks by tag, for `ca [inline]` style references. */
  private inlineBlocks = new Map<string, string>();

  constructor(private readonly options: NormalizeOptions) {}

  warn(dir: Directive | null, message: string): void {
    this.warnings.push({ line: dir?.line ?? null, directive: dir?.name ?? null, message });
  }

  refuse(dir: Directive | null, message: string): void {
    this.errors.push({ line: dir?.line ?? null, directive: dir?.name ?? null, message });
  }

  run(directives: Directive[]): void {
    for (const dir of directives) if (dir.inline !== null) this.inlineBlocks.set(dir.name, dir.inline);
    for (const dir of directives) this.apply(dir, null);
  }

  /** Applies one directive; `block` is set inside a <connection> block. */
  apply(dir: Directive, block: { port: number | null; proto: Proto | null } | null): void {
    try {
      this.dispatch(dir, block);
    } catch (e) {
      if (!(e instanceof ProfileError)) throw e;
      this.failed.add(dir.name);
      this.errors.push({ line: e.line ?? dir.line, directive: e.directive ?? dir.name, message: e.reason });
    }
  }

  private dispatch(dir: Directive, block: { port: number | null; proto: Proto | null } | null): void {
    const name = dir.name;
    const handler = HANDLERS[name];
    if (handler) {
      handler.call(this, dir, block);
      return;
    }
    const refused = REFUSED.get(name);
    if (refused) return this.refuse(dir, `${name} ${refused}`);
    const stripped = STRIPPED.get(name);
    if (stripped) return this.warn(dir, `${name} was removed: ${stripped}`);
    if (NO_EFFECT.has(name)) return;
    if (name.startsWith('management')) return this.warn(dir, `${name} was removed: it opens a management interface`);
    if (name.startsWith('show-')) return this.refuse(dir, `${name} is a standalone OpenVPN command, not part of a client profile`);
    // Echo only what looks like an option name: a line of a key pasted outside its block must
    // not be repeated back in a warning.
    if (/^[A-Za-z][A-Za-z0-9_-]{0,39}$/.test(name)) this.warn(dir, `${name} is not a directive Causeway understands; it was left out`);
    else this.warnings.push({ line: dir.line, directive: null, message: 'this line is not a directive (data outside a <block>?); it was left out' });
  }

  // ---- argument helpers ----

  args(dir: Directive, min: number, max: number): string[] {
    if (dir.inline !== null) {
      throw new ProfileError(`${dir.name} cannot be an inline <${dir.name}> block`, dir.line, dir.name);
    }
    if (dir.args.length < min || dir.args.length > max) {
      const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      throw new ProfileError(`${dir.name} takes ${want} argument${max === 1 && min === 1 ? '' : 's'}, found ${dir.args.length}`, dir.line, dir.name);
    }
    return dir.args;
  }

  int(dir: Directive, text: string | undefined, min: number, max: number): number {
    if (text === undefined || !/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      throw new ProfileError(`${dir.name}: "${text ?? ''}" is not a number from ${min} to ${max}`, dir.line, dir.name);
    }
    return Number(text);
  }

  /** The text of a directive that takes inline or file content (`<ca>` block or `ca file`). */
  content(dir: Directive, extraArgs = 0): { text: string; rest: string[] } {
    const { data, rest } = this.contentData(dir, extraArgs);
    if (typeof data === 'string') return { text: data, rest };
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(data), rest };
    } catch {
      throw new ProfileError(`the file for ${dir.name} is not text (PEM files are plain text)`, dir.line, dir.name);
    }
  }

  /** Inline text, or the bytes of the referenced file. */
  private contentData(dir: Directive, extraArgs: number): { data: Uint8Array | string; rest: string[] } {
    if (dir.inline !== null) return { data: dir.inline, rest: [] };
    const args = this.args(dir, 1, 1 + extraArgs);
    const ref = args[0]!;
    const rest = args.slice(1);
    if (/^\[\[?inline\]?\]$/i.test(ref)) {
      const text = this.inlineBlocks.get(dir.name);
      if (text === undefined) throw new ProfileError(`${dir.name} says [inline] but there is no <${dir.name}> block`, dir.line, dir.name);
      return { data: text, rest };
    }
    if (!this.options.readReference) {
      throw new ProfileError(
        `${dir.name} refers to the file "${ref}", which cannot be read here: import the profile from its folder, or paste the file into a <${dir.name}> block`,
        dir.line,
        dir.name,
      );
    }
    try {
      return { data: this.options.readReference(ref, dir.name, dir.line), rest };
    } catch (e) {
      if (e instanceof ProfileError) throw new ProfileError(e.reason, dir.line, dir.name);
      throw new ProfileError(`${dir.name}: the file "${ref}" could not be read`, dir.line, dir.name);
    }
  }

  /** `pkcs12 file.p12` (binary) or `<pkcs12>` (base64 of the same). */
  pkcs12(dir: Directive): void {
    if (!this.options.readPkcs12) {
      throw new ProfileError('PKCS#12 bundles cannot be read here; import the profile with the causeway app or CLI', dir.line, dir.name);
    }
    let { data } = this.contentData(dir, 0);
    if (typeof data === 'string') {
      const b64 = data.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new ProfileError('the <pkcs12> block is not base64', dir.line, dir.name);
      data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    }
    try {
      const p12 = this.options.readPkcs12(data);
      this.d.cert = certificates(p12.cert, 'the PKCS#12 certificate', dir.line, dir.name);
      this.d.key = privateKey(p12.key, dir.line, dir.name).pem;
      this.d.pkcs12Chain = p12.chain ? certificates(p12.chain, 'the PKCS#12 chain', dir.line, dir.name) : null;
    } catch (e) {
      if (e instanceof ProfileError) throw new ProfileError(e.reason, dir.line, dir.name);
      throw e;
    }
  }

  // ---- finishing ----

  finish(): ProfileSettings | null {
    const d = this.d;
    // As in OpenVPN: without a `ca`, the CA certificates of a PKCS#12 bundle are the CA.
    if (d.ca === null && d.pkcs12Chain !== null) d.ca = d.pkcs12Chain;
    const missing = (name: string, present: boolean): boolean => !present && !this.failed.has(name);
    if (missing('remote', d.remotes.length > 0)) this.refuse(null, 'the profile names no server: add a `remote <host> [port] [proto]` line');
    if (missing('ca', d.ca !== null) && !this.failed.has('pkcs12')) {
      this.refuse(null, 'the profile has no CA certificate (<ca> or ca), so the server could not be verified');
    }
    if (d.cert !== null && missing('key', d.key !== null)) this.refuse(null, 'the profile has a client certificate but no private key (<key> or key)');
    if (d.key !== null && missing('cert', d.cert !== null)) this.refuse(null, 'the profile has a private key but no client certificate (<cert> or cert)');
    if (d.tlsAuth && (d.tlsCrypt || d.tlsCryptV2)) this.refuse(null, 'tls-auth cannot be combined with tls-crypt or tls-crypt-v2');
    if (d.tlsCrypt && d.tlsCryptV2) this.refuse(null, 'tls-crypt and tls-crypt-v2 cannot be combined');
    const routeCount = d.routes.length + d.excludedRoutes.length + d.routesIpv6.length;
    if (routeCount > MAX_ROUTES) {
      this.refuse(null, `the profile lists ${routeCount} routes; at most ${MAX_ROUTES} are accepted`);
    }
    if (d.tlsVersionMax !== null && d.tlsVersionMax < d.tlsVersionMin) {
      this.refuse(null, `tls-version-max ${d.tlsVersionMax} is below tls-version-min ${d.tlsVersionMin}`);
    }
    let authDigest: ProfileSettings['authDigest'] = 'SHA1';
    if (d.authDigest !== null) {
      const digest = d.authDigest.toUpperCase().replace(/^SHA-/, 'SHA');
      if (digest === 'SHA1' || digest === 'SHA256' || digest === 'SHA512') authDigest = digest;
      else if (d.tlsAuth) {
        this.errors.push({
          line: d.authDigestLine,
          directive: 'auth',
          message: `auth ${d.authDigest} is not supported for tls-auth; Causeway supports SHA1, SHA256 and SHA512`,
        });
      } else {
        this.warnings.push({ line: d.authDigestLine, directive: 'auth', message: `auth ${d.authDigest} is ignored: it only applies to tls-auth and legacy ciphers` });
      }
    }
    if (d.staticChallenge && !d.userPass) {
      this.warn(null, 'static-challenge is ignored because the profile has no auth-user-pass');
    }
    if (d.federate && !d.userPass) d.userPass = true;
    if (this.errors.length) return null;

    // As in OpenVPN: once there are <connection> blocks, remote lines outside them are ignored.
    let used = d.remotes;
    if (d.remotes.some((r) => r.inBlock)) {
      for (const r of d.remotes.filter((x) => !x.inBlock)) {
        this.warnings.push({ line: r.line, directive: 'remote', message: 'remote outside a <connection> block is ignored when the profile has <connection> blocks (as OpenVPN does)' });
      }
      used = d.remotes.filter((r) => r.inBlock);
    }
    const remotes: Remote[] = used.map((r) => ({
      host: r.host,
      port: r.port ?? r.blockPort ?? d.defaultPort,
      proto: r.proto ?? r.blockProto ?? d.defaultProto,
    }));
    const awsMatch = remotes.map((r) => AWS_HOST.exec(r.host)).find((m) => m !== null) ?? null;
    const isAws = d.federate || awsMatch !== null;
    const staticChallenge = d.userPass ? d.staticChallenge : null;
    const hasCert = d.cert !== null;
    const kind = d.federate
      ? 'aws-saml'
      : staticChallenge
        ? 'static-challenge'
        : d.userPass && hasCert
          ? 'certificate+password'
          : d.userPass
            ? 'password'
            : hasCert
              ? 'certificate'
              : 'none';
    if (kind === 'none') {
      this.warn(null, 'the profile has neither a client certificate nor auth-user-pass: the server must accept connections without credentials');
    }
    const keepalive =
      d.ping !== null || d.pingRestart !== null ? { intervalSec: d.ping ?? 10, timeoutSec: d.pingRestart ?? 120 } : null;

    return {
      remotes,
      remoteRandom: d.remoteRandom,
      remoteRandomHostname: d.remoteRandomHostname,
      connectRetry: d.connectRetry,
      connectRetryMax: d.connectRetryMax,
      handshakeWindowSec: d.handshakeWindowSec,
      connectTimeoutSec: d.connectTimeoutSec,
      explicitExitNotify: d.explicitExitNotify,
      ca: d.ca!,
      extraCerts: d.extraCerts,
      cert: d.cert,
      hasKey: d.key !== null,
      tlsAuth: d.tlsAuth ? { key: d.tlsAuth.key, direction: d.tlsAuth.direction ?? d.keyDirection } : null,
      tlsCrypt: d.tlsCrypt,
      tlsCryptV2: d.tlsCryptV2,
      authDigest,
      tlsVersionMin: d.tlsVersionMin,
      tlsVersionMax: d.tlsVersionMax,
      dataCiphers: d.dataCiphers ?? [...SUPPORTED_CIPHERS],
      remoteCertTls: d.remoteCertTls,
      verifyX509Name: d.verifyX509Name,
      auth: {
        kind,
        userPass: d.userPass,
        staticChallenge,
        retry: d.authRetry,
        noCache: d.authNoCache,
        username: d.username,
        hasSavedPassword: d.password !== null,
      },
      isAws,
      aws: isAws ? { endpointId: awsMatch?.[1]?.toLowerCase() ?? null, region: awsMatch?.[2]?.toLowerCase() ?? null } : null,
      compression: d.compression,
      keepalive,
      renegSec: d.renegSec,
      renegBytes: d.renegBytes,
      tunMtu: d.tunMtu,
      mssFix: d.mssFix,
      inactiveSec: d.inactiveSec,
      routeNoPull: d.routeNoPull,
      routes: d.routes,
      excludedRoutes: d.excludedRoutes,
      routesIpv6: d.routesIpv6,
      redirectGateway: d.redirectGateway,
      dns: d.dns,
      ifconfigIpv6: d.ifconfigIpv6,
      blockIpv6: d.blockIpv6,
      blockOutsideDns: d.blockOutsideDns,
      peerInfo: d.peerInfo,
      pushPeerInfo: d.pushPeerInfo,
    };
  }
}

type Handler = (this: Normalizer, dir: Directive, block: { port: number | null; proto: Proto | null } | null) => void;

function parseProto(dir: Directive, text: string): Proto {
  const p = text.toLowerCase();
  if (p === 'udp' || p === 'udp4' || p === 'udp6') return 'udp';
  if (['tcp', 'tcp-client', 'tcp4', 'tcp6', 'tcp4-client', 'tcp6-client'].includes(p)) return 'tcp';
  if (p.startsWith('tcp') && p.endsWith('server')) {
    throw new ProfileError(`proto ${text} is a server mode: this is not a client profile`, dir.line, dir.name);
  }
  throw new ProfileError(`"${text}" is not a protocol (use udp or tcp)`, dir.line, dir.name);
}

function checkHost(dir: Directive, host: string): string {
  if (parseIpv4(host) !== null || isIpv6(host) || isHostname(host)) return host;
  throw new ProfileError(`"${host}" is not a valid server name or address`, dir.line, dir.name);
}

function cipherName(n: Normalizer, dir: Directive, list: string): DataCipher[] {
  const names = list.split(':').map((c) => c.trim().replace(/^\?/, '').toUpperCase()).filter((c) => c !== '');
  if (names.length === 0) throw new ProfileError(`${dir.name} lists no cipher`, dir.line, dir.name);
  if (names.includes('NONE')) {
    throw new ProfileError(`${dir.name} includes "none", which would send your traffic unencrypted`, dir.line, dir.name);
  }
  const alias = (c: string): string => (c === 'CHACHA20POLY1305' ? 'CHACHA20-POLY1305' : c.replace(/^ID-/, ''));
  const supported = [...new Set(names.map(alias).filter((c): c is DataCipher => (SUPPORTED_CIPHERS as string[]).includes(c)))];
  const other = names.map(alias).filter((c) => !(SUPPORTED_CIPHERS as string[]).includes(c));
  if (supported.length === 0) {
    throw new ProfileError(
      `none of the data ciphers ${names.join(', ')} is supported; Causeway supports ${SUPPORTED_CIPHERS.join(', ')}`,
      dir.line,
      dir.name,
    );
  }
  if (other.length) n.warn(dir, `${dir.name}: ${other.join(', ')} ${other.length > 1 ? 'are' : 'is'} not supported and will not be offered`);
  return supported;
}

/** "10.0.0.0" + "255.255.0.0" -> "10.0.0.0/16" (host bits cleared, with a warning). */
function ipv4Route(n: Normalizer, dir: Directive, network: string, mask: string): string {
  const net = parseIpv4(network);
  if (net === null) {
    throw new ProfileError(`route: "${network}" is not an IPv4 network address (names are not resolved in profiles)`, dir.line, dir.name);
  }
  const prefix = netmaskToPrefix(mask);
  if (prefix === null) throw new ProfileError(`route: "${mask}" is not a valid netmask`, dir.line, dir.name);
  const masked = maskIpv4(net, prefix);
  if (masked !== net) n.warn(dir, `route ${network} ${mask} has host bits set; using ${formatIpv4(masked)}/${prefix}`);
  return `${formatIpv4(masked)}/${prefix}`;
}

const HANDLERS: Record<string, Handler> = {
  dev(dir) {
    const [dev] = this.args(dir, 1, 1);
    if (/^tap/i.test(dev!)) throw new ProfileError('dev tap (layer-2 bridging) is not supported; Causeway creates tun devices', dir.line, dir.name);
    if (!/^tun\d*$/i.test(dev!)) throw new ProfileError(`dev ${dev} is not supported; use dev tun`, dir.line, dir.name);
  },
  'dev-type'(dir) {
    const [t] = this.args(dir, 1, 1);
    if (t !== 'tun') throw new ProfileError(`dev-type ${t} is not supported; Causeway creates tun devices`, dir.line, dir.name);
  },
  mode(dir) {
    const [m] = this.args(dir, 1, 1);
    if (m !== 'p2p') throw new ProfileError(`mode ${m} is a server mode: this is not a client profile`, dir.line, dir.name);
  },
  proto(dir, block) {
    const [p] = this.args(dir, 1, 1);
    const proto = parseProto(dir, p!);
    if (block) block.proto = proto;
    else this.d.defaultProto = proto;
  },
  port(dir, block) {
    const [p] = this.args(dir, 1, 1);
    const port = this.int(dir, p, 1, 65535);
    if (block) block.port = port;
    else this.d.defaultPort = port;
  },
  rport(dir, block) {
    HANDLERS.port!.call(this, dir, block);
  },
  remote(dir, block) {
    const [host, port, proto] = this.args(dir, 1, 3);
    this.d.remotes.push({
      host: checkHost(dir, host!),
      port: port === undefined ? null : this.int(dir, port, 1, 65535),
      proto: proto === undefined ? null : parseProto(dir, proto),
      line: dir.line,
      inBlock: block !== null,
      blockPort: block?.port ?? null,
      blockProto: block?.proto ?? null,
    });
  },
  connection(dir) {
    const block = { port: null as number | null, proto: null as Proto | null };
    // Port and proto in a block apply to the block's remotes wherever they appear in it.
    for (const inner of dir.block ?? []) {
      if (inner.name === 'port' || inner.name === 'rport' || inner.name === 'proto') this.apply(inner, block);
    }
    const firstRemote = this.d.remotes.length;
    for (const inner of dir.block ?? []) {
      if (inner.name === 'port' || inner.name === 'rport' || inner.name === 'proto') continue;
      this.apply(inner, block);
    }
    for (const r of this.d.remotes.slice(firstRemote)) {
      r.blockPort = block.port;
      r.blockProto = block.proto;
    }
    if (this.d.remotes.length === firstRemote) this.warn(dir, 'this <connection> block has no remote and adds no server');
  },
  'remote-random'(dir) {
    this.args(dir, 0, 0);
    this.d.remoteRandom = true;
  },
  'remote-random-hostname'(dir) {
    this.args(dir, 0, 0);
    this.d.remoteRandomHostname = true;
  },
  'connect-retry'(dir) {
    const [a, b] = this.args(dir, 1, 2);
    const initialSec = this.int(dir, a, 0, 86400);
    const maxSec = b === undefined ? Math.max(300, initialSec) : this.int(dir, b, initialSec, 86400);
    this.d.connectRetry = { initialSec, maxSec };
  },
  'connect-retry-max'(dir) {
    const [a] = this.args(dir, 1, 1);
    this.d.connectRetryMax = this.int(dir, a, 1, 1_000_000);
  },
  'hand-window'(dir) {
    this.d.handshakeWindowSec = this.int(dir, this.args(dir, 1, 1)[0], 5, 3600);
  },
  'connect-timeout'(dir) {
    this.d.connectTimeoutSec = this.int(dir, this.args(dir, 1, 1)[0], 1, 3600);
  },
  'server-poll-timeout'(dir) {
    HANDLERS['connect-timeout']!.call(this, dir, null);
  },
  'explicit-exit-notify'(dir) {
    const [n] = this.args(dir, 0, 1);
    this.d.explicitExitNotify = n === undefined ? 1 : this.int(dir, n, 0, 10);
  },

  // ---- keys and certificates ----
  ca(dir) {
    this.d.ca = certificates(this.content(dir).text, 'the CA', dir.line, dir.name);
  },
  'extra-certs'(dir) {
    this.d.extraCerts = certificates(this.content(dir).text, 'extra-certs', dir.line, dir.name);
  },
  cert(dir) {
    this.d.cert = certificates(this.content(dir).text, 'the client certificate', dir.line, dir.name);
  },
  key(dir) {
    const key = privateKey(this.content(dir).text, dir.line, dir.name);
    if (key.encrypted) {
      throw new ProfileError(
        'the private key is protected by a passphrase, which Causeway cannot use yet; remove the passphrase (openssl pkey -in key.pem -out plain.pem) and import again',
        dir.line,
        dir.name,
      );
    }
    this.d.key = key.pem;
  },
  'tls-auth'(dir) {
    const { text, rest } = this.content(dir, 1);
    let direction: 0 | 1 | null = null;
    if (rest[0] !== undefined) {
      if (rest[0] !== '0' && rest[0] !== '1') throw new ProfileError(`tls-auth direction must be 0 or 1, not "${rest[0]}"`, dir.line, dir.name);
      direction = rest[0] === '0' ? 0 : 1;
    }
    this.d.tlsAuth = { key: staticKey(text, dir.line, dir.name), direction, line: dir.line };
  },
  'key-direction'(dir) {
    const [v] = this.args(dir, 1, 1);
    if (v === '0' || v === '1') this.d.keyDirection = v === '0' ? 0 : 1;
    else if (v === 'bidirectional') this.d.keyDirection = null;
    else throw new ProfileError(`key-direction must be 0, 1 or bidirectional, not "${v}"`, dir.line, dir.name);
  },
  'tls-crypt'(dir) {
    this.d.tlsCrypt = staticKey(this.content(dir).text, dir.line, dir.name);
  },
  pkcs12(dir) {
    this.pkcs12(dir);
  },
  'tls-crypt-v2'(dir) {
    const { text, rest } = this.content(dir, 1);
    if (rest[0] !== undefined && rest[0] !== 'force-cookie' && rest[0] !== 'allow-noncookie') {
      throw new ProfileError(`tls-crypt-v2: unknown option "${rest[0]}"`, dir.line, dir.name);
    }
    this.d.tlsCryptV2 = tlsCryptV2ClientKey(text, dir.line, dir.name);
  },

  // ---- TLS and data channel ----
  'tls-version-min'(dir) {
    const [v, orHighest] = this.args(dir, 1, 2);
    if (orHighest !== undefined && orHighest !== 'or-highest') {
      throw new ProfileError(`tls-version-min: unknown option "${orHighest}"`, dir.line, dir.name);
    }
    if (v === '1.2' || v === '1.3') this.d.tlsVersionMin = v;
    else if (v === '1.0' || v === '1.1') {
      throw new ProfileError(`tls-version-min ${v} allows TLS below 1.2, which is no longer secure; Causeway requires TLS 1.2 or newer`, dir.line, dir.name);
    } else throw new ProfileError(`tls-version-min: "${v}" is not a TLS version`, dir.line, dir.name);
  },
  'tls-version-max'(dir) {
    const [v] = this.args(dir, 1, 1);
    if (v === '1.2' || v === '1.3') this.d.tlsVersionMax = v;
    else if (v === '1.0' || v === '1.1') {
      throw new ProfileError(`tls-version-max ${v} forces TLS below 1.2, which is no longer secure; Causeway requires TLS 1.2 or newer`, dir.line, dir.name);
    } else throw new ProfileError(`tls-version-max: "${v}" is not a TLS version`, dir.line, dir.name);
  },
  'tls-cipher'(dir) {
    const [list] = this.args(dir, 1, 1);
    const nulls = list!.split(/[:,\s]+/).filter((c) => /NULL/i.test(c) && !/^[!-]/.test(c));
    if (nulls.length) {
      throw new ProfileError(`tls-cipher allows ${nulls.join(', ')}: TLS without encryption or authentication`, dir.line, dir.name);
    }
  },
  'tls-ciphersuites'(dir) {
    const [list] = this.args(dir, 1, 1);
    const bad = list!.split(':').filter((c) => /NULL|^TLS_SHA(256|384)_SHA(256|384)$/i.test(c));
    if (bad.length) {
      throw new ProfileError(`tls-ciphersuites allows ${bad.join(', ')}: TLS without encryption`, dir.line, dir.name);
    }
  },
  'tls-cert-profile'(dir) {
    const [p] = this.args(dir, 1, 1);
    if (p === 'insecure') throw new ProfileError('tls-cert-profile insecure accepts MD5 and short keys; Causeway does not', dir.line, dir.name);
    if (!['legacy', 'preferred', 'suiteb'].includes(p!)) throw new ProfileError(`tls-cert-profile: unknown profile "${p}"`, dir.line, dir.name);
  },
  'data-ciphers'(dir) {
    const [list] = this.args(dir, 1, 1);
    this.d.dataCiphers = cipherName(this, dir, list!);
  },
  'ncp-ciphers'(dir) {
    HANDLERS['data-ciphers']!.call(this, dir, null);
  },
  'data-ciphers-fallback'(dir) {
    const [c] = this.args(dir, 1, 1);
    if (c!.toLowerCase() === 'none') throw new ProfileError('data-ciphers-fallback none would send your traffic unencrypted', dir.line, dir.name);
    this.warn(dir, `data-ciphers-fallback ${c} is ignored: Causeway only uses negotiated AEAD ciphers (OpenVPN 2.4+ servers)`);
  },
  cipher(dir) {
    const [c] = this.args(dir, 1, 1);
    const upper = c!.toUpperCase();
    if (upper === 'NONE') throw new ProfileError('cipher none would send your traffic unencrypted', dir.line, dir.name);
    if (!(SUPPORTED_CIPHERS as string[]).includes(upper)) {
      this.warn(dir, `cipher ${c} is ignored: Causeway negotiates ${SUPPORTED_CIPHERS.join(', ')} with the server (OpenVPN 2.4+ servers)`);
    }
  },
  auth(dir) {
    const [a] = this.args(dir, 1, 1);
    if (a!.toLowerCase() === 'none') throw new ProfileError('auth none turns off packet authentication', dir.line, dir.name);
    this.d.authDigest = a!;
    this.d.authDigestLine = dir.line;
  },
  'reneg-sec'(dir) {
    const [a] = this.args(dir, 1, 2);
    this.d.renegSec = this.int(dir, a, 0, 365 * 86400);
  },
  'reneg-bytes'(dir) {
    const n = this.int(dir, this.args(dir, 1, 1)[0], 0, Number.MAX_SAFE_INTEGER);
    this.d.renegBytes = n === 0 ? null : n;
  },
  'remote-cert-tls'(dir) {
    const [v] = this.args(dir, 1, 1);
    if (v !== 'server') throw new ProfileError(`remote-cert-tls ${v} makes no sense in a client profile; use remote-cert-tls server`, dir.line, dir.name);
    this.d.remoteCertTls = 'server';
  },
  'ns-cert-type'(dir) {
    const [v] = this.args(dir, 1, 1);
    if (v !== 'server') throw new ProfileError(`ns-cert-type ${v} makes no sense in a client profile`, dir.line, dir.name);
    this.d.remoteCertTls = 'server';
    this.warn(dir, 'ns-cert-type is deprecated; it is treated as remote-cert-tls server');
  },
  'verify-x509-name'(dir) {
    const [name, type] = this.args(dir, 1, 2);
    const t = type ?? 'subject';
    if (t !== 'subject' && t !== 'name' && t !== 'name-prefix') {
      throw new ProfileError(`verify-x509-name: the type must be subject, name or name-prefix, not "${t}"`, dir.line, dir.name);
    }
    if (name === '') throw new ProfileError('verify-x509-name needs a name', dir.line, dir.name);
    this.d.verifyX509Name = { name: name!, type: t };
  },

  // ---- authentication ----
  'auth-user-pass'(dir) {
    this.d.userPass = true;
    if (dir.inline !== null) {
      const [user, pass] = dir.inline.split('\n');
      if (!user) throw new ProfileError('the <auth-user-pass> block has no username line', dir.line, dir.name);
      this.d.username = user;
      this.d.password = pass ? pass : null;
      return;
    }
    const [file] = this.args(dir, 0, 1);
    if (file !== undefined) {
      this.warn(dir, `auth-user-pass: the credentials file "${file}" was not read; Causeway asks for the username and password when connecting`);
    }
  },
  'auth-nocache'(dir) {
    this.args(dir, 0, 0);
    this.d.authNoCache = true;
  },
  'auth-retry'(dir) {
    const [v] = this.args(dir, 1, 1);
    if (v !== 'none' && v !== 'nointeract' && v !== 'interact') {
      throw new ProfileError(`auth-retry must be none, nointeract or interact, not "${v}"`, dir.line, dir.name);
    }
    this.d.authRetry = v;
  },
  'static-challenge'(dir) {
    const [text, echo, format] = this.args(dir, 2, 3);
    if (echo !== '0' && echo !== '1') throw new ProfileError(`static-challenge: the echo flag must be 0 or 1, not "${echo}"`, dir.line, dir.name);
    if (format !== undefined && format !== 'scrv1' && format !== 'concat') {
      throw new ProfileError(`static-challenge: the format must be scrv1 or concat, not "${format}"`, dir.line, dir.name);
    }
    if (format === 'concat') this.warn(dir, 'static-challenge concat is sent as SCRV1; the server must accept that format');
    this.d.staticChallenge = { text: text!, echo: echo === '1' };
  },
  'auth-federate'(dir) {
    this.args(dir, 0, 0);
    this.d.federate = true;
  },

  // ---- timers, MTU, compression ----
  'comp-lzo'(dir) {
    const [mode] = this.args(dir, 0, 1);
    if (mode !== undefined && !['yes', 'no', 'adaptive'].includes(mode)) {
      throw new ProfileError(`comp-lzo must be yes, no or adaptive, not "${mode}"`, dir.line, dir.name);
    }
    this.d.compression = 'comp-lzo-no';
    if (mode !== 'no') this.warn(dir, 'compression is never used (it can leak data, see VORACLE); packets are framed as the server expects but sent uncompressed');
  },
  compress(dir) {
    const [algo] = this.args(dir, 0, 1);
    const a = algo ?? 'stub';
    if (a === 'stub' || a === 'lz4') this.d.compression = 'compress-stub';
    else if (a === 'stub-v2' || a === 'lz4-v2') this.d.compression = 'compress-stub-v2';
    else if (a === 'lzo') this.d.compression = 'comp-lzo-no';
    else throw new ProfileError(`compress: unknown algorithm "${a}"`, dir.line, dir.name);
    if (!a.startsWith('stub')) this.warn(dir, 'compression is never used (it can leak data, see VORACLE); packets are framed as the server expects but sent uncompressed');
  },
  keepalive(dir) {
    const [i, t] = this.args(dir, 2, 2);
    this.d.ping = this.int(dir, i, 1, 86400);
    this.d.pingRestart = this.int(dir, t, 1, 86400);
  },
  ping(dir) {
    this.d.ping = this.int(dir, this.args(dir, 1, 1)[0], 1, 86400);
  },
  'ping-restart'(dir) {
    this.d.pingRestart = this.int(dir, this.args(dir, 1, 1)[0], 0, 86400) || null;
  },
  inactive(dir) {
    const [n] = this.args(dir, 1, 2);
    this.d.inactiveSec = this.int(dir, n, 0, 365 * 86400) || null;
  },
  'tun-mtu'(dir) {
    this.d.tunMtu = this.int(dir, this.args(dir, 1, 2)[0], 576, 65535);
  },
  mssfix(dir) {
    const [n] = this.args(dir, 0, 2);
    this.d.mssFix = n === undefined ? null : this.int(dir, n, 0, 65535) || null;
  },

  // ---- routing and DNS ----
  'route-nopull'(dir) {
    this.args(dir, 0, 0);
    this.d.routeNoPull = true;
  },
  route(dir) {
    const [network, mask, gateway] = this.args(dir, 1, 4);
    const cidr = ipv4Route(this, dir, network!, mask === undefined || mask === 'default' ? '255.255.255.255' : mask);
    if (gateway === 'net_gateway') this.d.excludedRoutes.push(cidr);
    else {
      if (gateway !== undefined && gateway !== 'vpn_gateway' && gateway !== 'default' && parseIpv4(gateway) === null) {
        throw new ProfileError(`route: "${gateway}" is not a gateway (vpn_gateway, net_gateway or an address)`, dir.line, dir.name);
      }
      if (gateway === 'remote_host') throw new ProfileError('route … remote_host is not supported', dir.line, dir.name);
      this.d.routes.push(cidr);
    }
  },
  'route-ipv6'(dir) {
    const [network] = this.args(dir, 1, 3);
    const parsed = parseIpv6Cidr(network!);
    if (!parsed) throw new ProfileError(`route-ipv6: "${network}" is not an IPv6 network (like 2000::/3)`, dir.line, dir.name);
    this.d.routesIpv6.push(`${parsed.address}/${parsed.prefix}`);
  },
  'redirect-gateway'(dir) {
    const flags = this.args(dir, 0, 8);
    const known = ['def1', 'local', 'autolocal', 'bypass-dhcp', 'bypass-dns', 'block-local', 'ipv6', '!ipv4'];
    const unknown = flags.filter((f) => !known.includes(f));
    if (unknown.length) throw new ProfileError(`redirect-gateway: unknown flag ${unknown.join(', ')}`, dir.line, dir.name);
    this.d.redirectGateway = { ipv4: !flags.includes('!ipv4'), ipv6: flags.includes('ipv6'), flags };
  },
  'block-ipv6'(dir) {
    this.args(dir, 0, 0);
    this.d.blockIpv6 = true;
  },
  'block-outside-dns'(dir) {
    this.args(dir, 0, 0);
    this.d.blockOutsideDns = true;
  },
  'dhcp-option'(dir) {
    const [kind, value] = this.args(dir, 1, 3);
    const k = kind!.toUpperCase();
    const need = (): string => {
      if (value === undefined) throw new ProfileError(`dhcp-option ${kind} needs a value`, dir.line, dir.name);
      return value;
    };
    if (k === 'DNS' || k === 'DNS6') {
      const addr = need();
      if (parseIpv4(addr) === null && !isIpv6(addr)) throw new ProfileError(`dhcp-option ${kind}: "${addr}" is not an IP address`, dir.line, dir.name);
      this.d.dns.servers.push(addr);
    } else if (k === 'DOMAIN' || k === 'DOMAIN-SEARCH' || k === 'ADAPTER_DOMAIN_SUFFIX') {
      const domain = need();
      if (!isHostname(domain)) throw new ProfileError(`dhcp-option ${kind}: "${domain}" is not a domain name`, dir.line, dir.name);
      this.d.dns.searchDomains.push(domain);
    } else if (k === 'DOMAIN-ROUTE') {
      const domain = need();
      if (domain !== '.' && !isHostname(domain)) throw new ProfileError(`dhcp-option ${kind}: "${domain}" is not a domain name`, dir.line, dir.name);
      this.d.dns.routeDomains.push(domain);
    } else if (['WINS', 'NTP', 'NBDD', 'NBT', 'NBS', 'DISABLE-NBT', 'PROXY_HTTP', 'PROXY_HTTPS', 'PROXY_AUTO_CONFIG_URL', 'PROXY_BYPASS'].includes(k)) {
      this.warn(dir, `dhcp-option ${kind} is a Windows network setting that Causeway does not apply`);
    } else {
      this.warn(dir, `dhcp-option ${kind} is not understood; it was left out`);
    }
  },
  dns(dir) {
    const args = this.args(dir, 2, 16);
    if (args[0] === 'search-domains') {
      for (const d of args.slice(1)) {
        if (!isHostname(d)) throw new ProfileError(`dns search-domains: "${d}" is not a domain name`, dir.line, dir.name);
        this.d.dns.searchDomains.push(d);
      }
    } else if (args[0] === 'server' && args.length >= 4) {
      const what = args[2];
      if (what === 'address') {
        for (const a of args.slice(3)) {
          const host = a.replace(/^\[(.*)\](:\d+)?$/, '$1').replace(/^([\d.]+):\d+$/, '$1');
          if (parseIpv4(host) === null && !isIpv6(host)) throw new ProfileError(`dns server address: "${a}" is not an IP address`, dir.line, dir.name);
          this.d.dns.servers.push(host);
        }
      } else if (what === 'resolve-domains') {
        this.d.dns.routeDomains.push(...args.slice(3));
      } else this.warn(dir, `dns server … ${what} is not supported; it was left out`);
    } else this.warn(dir, `dns ${args[0]} is not understood; it was left out`);
  },
  'ifconfig-ipv6'(dir) {
    const [local, remote] = this.args(dir, 2, 2);
    const parsed = parseIpv6Cidr(local!);
    if (!parsed || !isIpv6(remote!)) throw new ProfileError('ifconfig-ipv6 needs an IPv6 address/bits and a remote IPv6 address', dir.line, dir.name);
    this.d.ifconfigIpv6 = { address: parsed.address, prefix: parsed.prefix, remote: remote!.toLowerCase() };
  },
  'push-peer-info'(dir) {
    this.args(dir, 0, 0);
    this.d.pushPeerInfo = true;
  },
  setenv(dir, block) {
    const args = this.args(dir, 1, 16);
    if (args[0] === 'opt') {
      // "setenv opt X": X is an option that older clients may ignore; apply it if understood.
      if (args.length < 2) throw new ProfileError('setenv opt needs an option', dir.line, dir.name);
      const inner: Directive = { name: args[1]!.replace(/^--/, ''), args: args.slice(2), line: dir.line, inline: null, block: null };
      return this.apply(inner, block);
    }
    const [name, value] = args;
    if (/^IV_[A-Z0-9_]+$/.test(name!) && args.length <= 2) {
      this.d.peerInfo[name!] = value ?? '';
      return;
    }
    this.warn(dir, `setenv ${name} was removed: it sets a variable for scripts; only IV_ peer-info variables are kept`);
  },
};

/** Applies the policy to parsed directives. Never throws for profile content (collects errors). */
export function normalize(directives: Directive[], options: NormalizeOptions = {}): NormalizeResult {
  const n = new Normalizer(options);
  n.run(directives);
  const settings = n.finish();
  return {
    settings,
    secrets: settings ? { key: n.d.key, password: n.d.password } : { key: null, password: null },
    warnings: n.warnings,
    errors: n.errors,
  };
}
