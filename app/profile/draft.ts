// The normalizer's working state while it walks a profile's directives.
import type { AddressFamily, DataCipher, Proto, ProfileProxy, ProfileSettings, VerifyX509Name } from './model.js';
import type { Directive } from './lexer.js';

/** What a `proto` argument says: the transport and the address families it may use. */
export interface Transport {
  proto: Proto;
  family: AddressFamily;
}

/** Port and proto defaults of the <connection> block being applied. */
export interface BlockDefaults {
  port: number | null;
  proto: Transport | null;
}

export interface RemoteDraft {
  host: string;
  port: number | null;
  proto: Transport | null;
  line: number;
  /** Came from a <connection> block; then its defaults: */
  inBlock: boolean;
  blockPort: number | null;
  blockProto: Transport | null;
}

/** Mutable state while walking the directives. */
export class Draft {
  remotes: RemoteDraft[] = [];
  defaultPort = 1194;
  defaultProto: Transport = { proto: 'udp', family: 'any' };
  remoteRandom = false;
  remoteRandomHostname = false;
  connectRetry = { initialSec: 1, maxSec: 300 };
  connectRetryMax: number | null = null;
  handshakeWindowSec = 60;
  connectTimeoutSec = 120;
  explicitExitNotify = 0;
  /** `http-proxy`/`socks-proxy` (hasCredentials is set from proxyCredentials when finishing). */
  proxy: (Omit<ProfileProxy, 'hasCredentials' | 'askCredentials'> & { line: number; directive: string }) | null = null;
  /** `http-proxy-option` lines, applied to an HTTP proxy when finishing. */
  httpProxyOptions: { line: number; version: ProfileProxy['httpVersion'] | null; userAgent: string | null; header: ProfileProxy['customHeaders'][number] | null }[] = [];
  /** Where the proxy's credentials come from: an auth file (read into proxyCredentials), or the <http-proxy-user-pass> block; `ask`: asked for when connecting unless a block gives them (`auto`, `stdin`); null = none. */
  proxyAuth: { fromBlock: boolean; ask: boolean } | null = null;
  /** The proxy's auth file (a secret). */
  proxyCredentials: { username: string; password: string } | null = null;
  /** The inline `<http-proxy-user-pass>` block's credentials, for `http-proxy … [inline]`. */
  inlineProxyCredentials: { username: string; password: string } | null = null;
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
  /** The 2.4-style `cipher`, offered after `dataCiphers`. */
  cipher: DataCipher | null = null;
  dataCiphersFallback: DataCipher | null = null;
  remoteCertTls: 'server' | null = null;
  verifyX509Name: VerifyX509Name | null = null;
  peerFingerprints: string[] = [];
  crl: string | null = null;
  verifyHash: { algorithm: 'SHA1' | 'SHA256'; fingerprints: string[] } | null = null;
  remoteCertKu: number[] | null = null;
  remoteCertEku: string | null = null;
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
  mssFix: ProfileSettings['mssFix'] = null;
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
  /** `askpass <file>`: where the passphrase of an encrypted key or PKCS#12 bundle is (read only if one is). */
  askpass: Directive | null = null;
}
