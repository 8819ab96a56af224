// The Normalizer: applies the import policy to parsed directives and builds the normalized
// ProfileSettings. Each kept directive has a handler (directives/, given to the constructor so
// that the handlers, which use the Normalizer, and the Normalizer do not import each other) that
// validates its arguments (a bad argument refuses the profile, with the line) and records its
// value; stripped and unknown directives become warnings; refusals are collected so the user
// sees every reason at once.
import { LIMITS } from '../helper-protocol/generated/types.js';
import { DEFAULT_CIPHERS, SUPPORTED_DIGESTS, isCbc } from './ciphers.js';
import { Draft, type BlockDefaults } from './draft.js';
import { ProfileError, type ProfileIssue } from './errors.js';
import type { Directive } from './lexer.js';
import type { AuthKind, DataCipher, ProfileSettings, Remote } from './model.js';
import { isIpv6, parseIpv4 } from './net.js';
import { certificates, privateKey } from './pem.js';
import { NO_EFFECT, REFUSED, STRIPPED } from './directive-policy.js';
import { settleProxy } from './proxy.js';

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

/**
 * Opens a PKCS#12 bundle (DER) with `password` ("" for a bundle without one); null when the
 * password does not open it. Throws ProfileError when the bundle cannot be read at all.
 */
export type ReadPkcs12 = (der: Uint8Array, password: string) => Pkcs12Contents | null;

/** Decrypts a passphrase-protected PEM private key to unencrypted PEM; null when the passphrase does not open it. */
export type DecryptKey = (pem: string, passphrase: string) => string | null;

export interface NormalizeOptions {
  /** Absent when the profile came without its folder (e.g. pasted text): file references are refused. */
  readReference?: ReadReference;
  /** Absent where no PKCS#12 reader is available: `pkcs12` profiles are refused. */
  readPkcs12?: ReadPkcs12;
  /** Absent where keys cannot be decrypted: profiles with a passphrase-protected key are refused. */
  decryptKey?: DecryptKey;
  /** The passphrase the user gave for the profile's key or PKCS#12 bundle (an askpass file's wins). */
  passphrase?: string | null;
}

/** A key or PKCS#12 bundle that a passphrase the user can be asked for would open. */
export interface PassphraseNeed {
  locked: 'key' | 'pkcs12';
  /** A passphrase was given and did not open it. */
  wrong: boolean;
}

/** Secrets found in the profile; they go to the SecretStore, never into ProfileSettings. */
export interface ProfileSecrets {
  key: string | null;
  password: string | null;
  /** OpenVPN Static key V1 texts of tls-auth and tls-crypt; the tls-crypt-v2 client key. */
  tlsAuth: string | null;
  tlsCrypt: string | null;
  tlsCryptV2: string | null;
  /** The proxy's username and password (`<http-proxy-user-pass>` or the proxy's auth file). */
  proxyCredentials: { username: string; password: string } | null;
}

/** A verdict's secrets when the profile carries none (or is refused). */
export const NO_SECRETS: ProfileSecrets = { key: null, password: null, tlsAuth: null, tlsCrypt: null, tlsCryptV2: null, proxyCredentials: null };

export interface NormalizeResult {
  /** Null when the profile is refused (errors is then non-empty). */
  settings: ProfileSettings | null;
  secrets: ProfileSecrets;
  warnings: ProfileIssue[];
  errors: ProfileIssue[];
  /** Set when asking the user for a passphrase (again) could open what refused the profile. */
  passphrase: PassphraseNeed | null;
}

const LOCKED_NAMES = { key: 'the private key', pkcs12: 'the PKCS#12 bundle' } as const;

/**
 * The helper's caps on what a profile may ask of the host (native/engine/src/limits.rs, by way
 * of the generated protocol): a profile over them is refused here, at import, rather than at
 * connect.
 */
const { maxRoutes, maxRemotes, maxDnsServers, maxDnsDomains } = LIMITS;

const AWS_HOST = /^(?:[^.]+\.)?(cvpn-endpoint-[0-9a-f]+)\.prod\.clientvpn\.([a-z0-9-]+)\.amazonaws\.com\.?$/i;

/** Validates one kept directive's arguments and records its value in the normalizer's draft. */
export type DirectiveHandler = (this: Normalizer, dir: Directive, block: BlockDefaults | null) => void;

export class Normalizer {
  readonly d = new Draft();
  readonly warnings: ProfileIssue[] = [];
  readonly errors: ProfileIssue[] = [];
  /** Directives that were present but refused, so "missing X" is not reported on top. */
  private readonly failed = new Set<string>();
  /** Inline blocks by tag, for `ca [inline]` style references. */
  private inlineBlocks = new Map<string, string>();
  /** What a passphrase the user could be asked for would open (see NormalizeResult). */
  passphraseNeed: PassphraseNeed | null = null;
  private askpassRead = false;

  constructor(
    readonly options: NormalizeOptions,
    private readonly handlers: Readonly<Record<string, DirectiveHandler>>,
  ) {}

  warn(dir: Directive | null, message: string): void {
    this.warnings.push({ line: dir?.line ?? null, directive: dir?.name ?? null, message });
  }

  refuse(dir: Directive | null, message: string): void {
    this.errors.push({ line: dir?.line ?? null, directive: dir?.name ?? null, message });
  }

  run(directives: Directive[]): void {
    for (const dir of directives) if (dir.inline !== null) this.inlineBlocks.set(dir.name, dir.inline);
    // askpass first: the file it names opens a locked key that comes before it in the profile too.
    for (const dir of directives) if (dir.name === 'askpass') this.apply(dir, null);
    for (const dir of directives) if (dir.name !== 'askpass') this.apply(dir, null);
  }

  /** Applies one directive; `block` is set inside a <connection> block. */
  apply(dir: Directive, block: BlockDefaults | null): void {
    try {
      this.dispatch(dir, block);
    } catch (e) {
      if (!(e instanceof ProfileError)) throw e;
      this.failed.add(dir.name);
      this.errors.push({ line: e.line ?? dir.line, directive: e.directive ?? dir.name, message: e.reason });
    }
  }

  private dispatch(dir: Directive, block: BlockDefaults | null): void {
    const name = dir.name;
    const handler = this.handlers[name];
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
    return { data: this.referencedFile(dir, ref, `<${dir.name}>`), rest };
  }

  /** The bytes of a file a directive names, read from the profile's folder; `inlineTag` is where the user could paste it instead. */
  referencedFile(dir: Directive, ref: string, inlineTag: string): Uint8Array | string {
    if (!this.options.readReference) {
      throw new ProfileError(
        `${dir.name} refers to the file "${ref}", which cannot be read here: import the profile from its folder, or paste the file into a ${inlineTag} block`,
        dir.line,
        dir.name,
      );
    }
    try {
      return this.options.readReference(ref, dir.name, dir.line);
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
    const der = data;
    const read = this.options.readPkcs12;
    try {
      const p12 = read(der, '') ?? this.unlock(dir, 'pkcs12', (password) => read(der, password));
      this.d.cert = certificates(p12.cert, 'the PKCS#12 certificate', dir.line, dir.name);
      this.d.key = privateKey(p12.key, dir.line, dir.name).pem;
      this.d.pkcs12Chain = p12.chain ? certificates(p12.chain, 'the PKCS#12 chain', dir.line, dir.name) : null;
    } catch (e) {
      if (e instanceof ProfileError) throw new ProfileError(e.reason, dir.line, dir.name);
      throw e;
    }
  }

  /**
   * Opens a locked key or bundle with the passphrase in the askpass file, else the one the user
   * gave; without either, or with a wrong one the user could correct, records what asking would open.
   */
  unlock<T>(dir: Directive, locked: PassphraseNeed['locked'], open: (passphrase: string) => T | null): T {
    const what = LOCKED_NAMES[locked];
    const askpass = this.d.askpass;
    // Read only now, when a locked key needs it (errors point at the askpass line).
    const fromFile = askpass ? this.askpassPassphrase(askpass) : null;
    const passphrase = fromFile ?? this.options.passphrase ?? null;
    if (passphrase === null) {
      this.passphraseNeed ??= { locked, wrong: false };
      throw new ProfileError(
        `${what} is protected by a passphrase and none was given: import it with \`causeway import\`, which asks for it, or name a file holding it with askpass`,
        dir.line,
        dir.name,
      );
    }
    const opened = open(passphrase);
    if (opened !== null) return opened;
    if (askpass) throw new ProfileError(`the passphrase in the askpass file "${askpass.args[0]}" does not open ${what}`, dir.line, dir.name);
    this.passphraseNeed = { locked, wrong: true };
    throw new ProfileError(`wrong passphrase for ${what}`, dir.line, dir.name);
  }

  /** The first line of the file `askpass <file>` names (next to the profile, like every reference). */
  private askpassPassphrase(dir: Directive): string {
    this.askpassRead = true;
    const passphrase = this.content(dir).text.split(/\r?\n/)[0]!;
    if (passphrase === '') throw new ProfileError(`the askpass file "${dir.args[0]}" is empty; its first line must be the passphrase`, dir.line, dir.name);
    return passphrase;
  }

  // ---- finishing ----

  /** Refuses what is missing or contradictory once every directive has been seen. */
  private checkWhole(): void {
    const d = this.d;
    const missing = (name: string, present: boolean): boolean => !present && !this.failed.has(name);
    if (missing('remote', d.remotes.length > 0)) this.refuse(null, 'the profile names no server: add a `remote <host> [port] [proto]` line');
    // A server pinned by peer-fingerprint needs no CA (OpenVPN 2.6's self-signed setup).
    const pinned = d.peerFingerprints.length > 0 || this.failed.has('peer-fingerprint');
    if (missing('ca', d.ca !== null) && !this.failed.has('pkcs12') && !pinned) {
      this.refuse(null, 'the profile has no CA certificate (<ca> or ca), so the server could not be verified (a self-signed server needs peer-fingerprint)');
    }
    if (d.remoteCertTls === null && d.verifyX509Name === null && !pinned && this.errors.length === 0) {
      this.warn(
        null,
        'neither remote-cert-tls server nor verify-x509-name is set: any certificate the CA issued, another client\'s too, would be accepted as the server; ask for a profile with remote-cert-tls server',
      );
    }
    if (d.cert !== null && missing('key', d.key !== null)) this.refuse(null, 'the profile has a client certificate but no private key (<key> or key)');
    if (d.key !== null && missing('cert', d.cert !== null)) this.refuse(null, 'the profile has a private key but no client certificate (<cert> or cert)');
    if (d.tlsAuth && (d.tlsCrypt || d.tlsCryptV2)) this.refuse(null, 'tls-auth cannot be combined with tls-crypt or tls-crypt-v2');
    if (d.tlsCrypt && d.tlsCryptV2) this.refuse(null, 'tls-crypt and tls-crypt-v2 cannot be combined');
    const routeCount = d.routes.length + d.excludedRoutes.length + d.routesIpv6.length;
    if (routeCount > maxRoutes) {
      this.refuse(null, `the profile lists ${routeCount} routes; at most ${maxRoutes} are accepted`);
    }
    const counted: [number, string, number][] = [
      [d.remotes.length, 'remote servers', maxRemotes],
      [d.dns.servers.length, 'DNS servers', maxDnsServers],
      [d.dns.searchDomains.length, 'DNS search domains', maxDnsDomains],
      [d.dns.routeDomains.length, 'DNS route domains', maxDnsDomains],
    ];
    for (const [count, what, max] of counted) {
      if (count > max) this.refuse(null, `the profile lists ${count} ${what}; at most ${max} are accepted`);
    }
    if (d.tlsVersionMax !== null && d.tlsVersionMax < d.tlsVersionMin) {
      this.refuse(null, `tls-version-max ${d.tlsVersionMax} is below tls-version-min ${d.tlsVersionMin}`);
    }
    if (d.askpass && !this.askpassRead) {
      this.warn(d.askpass, 'askpass was left out: the profile has no passphrase-protected key, so its file was not read');
    }
    if (d.staticChallenge && !d.userPass) {
      this.warn(null, 'static-challenge is ignored because the profile has no auth-user-pass');
    }
  }

  /** The data ciphers offered: `data-ciphers` (or the default) and a 2.4-style `cipher` after them. */
  private dataCiphers(): DataCipher[] {
    const d = this.d;
    const list = [...(d.dataCiphers ?? DEFAULT_CIPHERS)];
    if (d.cipher !== null && !list.includes(d.cipher)) list.push(d.cipher);
    return list;
  }

  /** The HMAC digest; `auth` only matters (and must be supported) with tls-auth or a CBC cipher. */
  private authDigest(ciphers: DataCipher[]): ProfileSettings['authDigest'] {
    const d = this.d;
    if (d.authDigest === null) return 'SHA1';
    const digest = d.authDigest.toUpperCase().replace(/^SHA-/, 'SHA');
    const known = SUPPORTED_DIGESTS.find((s) => s === digest);
    if (known !== undefined) return known;
    const where = { line: d.authDigestLine, directive: 'auth' };
    const cbc = [...ciphers, d.dataCiphersFallback].some((c) => c !== null && isCbc(c));
    if (d.tlsAuth || cbc) {
      const uses = [d.tlsAuth ? 'tls-auth' : null, cbc ? 'the CBC data ciphers' : null].filter((u) => u !== null).join(' and ');
      this.errors.push({ ...where, message: `auth ${d.authDigest} is not supported for ${uses}; Causeway supports ${SUPPORTED_DIGESTS.join(', ')}` });
    } else {
      this.warnings.push({ ...where, message: `auth ${d.authDigest} is ignored: it only applies to tls-auth and CBC ciphers` });
    }
    return 'SHA1';
  }

  /** Remotes with their defaults applied; with <connection> blocks only theirs, as in OpenVPN. */
  private remotes(): Remote[] {
    const d = this.d;
    let used = d.remotes;
    if (d.remotes.some((r) => r.inBlock)) {
      for (const r of d.remotes.filter((x) => !x.inBlock)) {
        this.warnings.push({ line: r.line, directive: 'remote', message: 'remote outside a <connection> block is ignored when the profile has <connection> blocks (as OpenVPN does)' });
      }
      used = d.remotes.filter((r) => r.inBlock);
    }
    return used.map((r) => {
      const { proto, family } = r.proto ?? r.blockProto ?? d.defaultProto;
      const literal = parseIpv4(r.host) !== null ? 'ipv4' : isIpv6(r.host) ? 'ipv6' : null;
      if (literal !== null && family !== 'any' && literal !== family) {
        const want = family === 'ipv4' ? 'IPv4' : 'IPv6';
        this.errors.push({ line: r.line, directive: 'remote', message: `remote ${r.host} is not an ${want} address, but its proto allows only ${want}` });
      }
      return { host: r.host, port: r.port ?? r.blockPort ?? d.defaultPort, proto, family };
    });
  }

  private authKind(): AuthKind {
    const d = this.d;
    if (d.federate) return 'aws-saml';
    if (d.userPass && d.staticChallenge) return 'static-challenge';
    if (d.userPass) return d.cert !== null ? 'certificate+password' : 'password';
    if (d.cert !== null) return 'certificate';
    this.warn(null, 'the profile has neither a client certificate nor auth-user-pass: the server must accept connections without credentials');
    return 'none';
  }

  finish(): ProfileSettings | null {
    const d = this.d;
    // As in OpenVPN: without a `ca`, the CA certificates of a PKCS#12 bundle are the CA.
    if (d.ca === null && d.pkcs12Chain !== null) d.ca = d.pkcs12Chain;
    // AWS exports always pair auth-federate with auth-user-pass; the SAML leg needs it.
    if (d.federate) d.userPass = true;
    this.checkWhole();
    const dataCiphers = this.dataCiphers();
    const authDigest = this.authDigest(dataCiphers);
    if (this.errors.length) return null;

    const { proxy, remotes, warnings, errors } = settleProxy(d, this.remotes());
    this.warnings.push(...warnings);
    this.errors.push(...errors);
    if (this.errors.length) return null;
    const awsMatch = remotes.map((r) => AWS_HOST.exec(r.host)).find((m) => m !== null) ?? null;
    const isAws = d.federate || awsMatch !== null;
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
      proxy,
      ca: d.ca ?? '',
      extraCerts: d.extraCerts,
      cert: d.cert,
      hasKey: d.key !== null,
      tlsAuth: d.tlsAuth ? { direction: d.tlsAuth.direction ?? d.keyDirection } : null,
      tlsCrypt: d.tlsCrypt !== null,
      tlsCryptV2: d.tlsCryptV2 !== null,
      authDigest,
      tlsVersionMin: d.tlsVersionMin,
      tlsVersionMax: d.tlsVersionMax,
      dataCiphers,
      dataCiphersFallback: d.dataCiphersFallback,
      remoteCertTls: d.remoteCertTls,
      verifyX509Name: d.verifyX509Name,
      peerFingerprints: d.peerFingerprints,
      crl: d.crl,
      verifyHash: d.verifyHash,
      remoteCertKu: d.remoteCertKu,
      remoteCertEku: d.remoteCertEku,
      auth: {
        kind: this.authKind(),
        userPass: d.userPass,
        staticChallenge: d.userPass ? d.staticChallenge : null,
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

