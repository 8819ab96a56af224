// Builds the helper's EngineConfig from a stored Profile. The helper gets typed, normalized
// settings only — never profile text, never a file path — plus the secrets this attempt needs
// (the client key from the SecretStore, credentials known before connecting).
import type { EngineConfig } from '../../app/helper-protocol/messages.js';
import type { Profile } from '../../app/profile/model.js';
import type { ProxyCredentials, StaticKeys } from '../profiles/secret-accounts.js';

export class ProfileUnusableError extends Error {
  override readonly name = 'ProfileUnusableError';
}

export interface EngineSecrets {
  /** PEM private key for the profile's client certificate (SecretStore `profile/<id>/key`). */
  key: string | null;
  /** Credentials to send without being asked (saved password, or a federated login's first leg). */
  credentials: { username: string; password: string } | null;
  /** The profile's tls-auth / tls-crypt / tls-crypt-v2 keys (SecretStore `profile/<id>/<kind>`). */
  staticKeys: StaticKeys;
  /** The proxy's username and password (SecretStore `profile/<id>/proxy-credentials`, or asked for at connect). */
  proxyCredentials: ProxyCredentials | null;
}

export interface EngineOptions {
  killSwitch: boolean;
  /** The directly connected LAN stays reachable while leak protection blocks the rest. */
  allowLan: boolean;
  /** IV_GUI_VER, e.g. "causeway 0.1.0". */
  guiVersion: string;
}

/** What OpenVPN 2.6 clamps to without an `mssfix` line: outer packets of at most 1492 bytes. */
export const OPENVPN_DEFAULT_MSSFIX: EngineConfig['mssfix'] = { max: 1492, mode: 'mtu' };

/** Whether this profile authenticates with a client certificate. */
export function usesClientCertificate(profile: Profile): boolean {
  return profile.auth.kind === 'certificate' || profile.auth.kind === 'certificate+password' || profile.cert !== null;
}

export function buildEngineConfig(profile: Profile, secrets: EngineSecrets, options: EngineOptions): EngineConfig {
  // AWS Client VPN always authenticates: without federation or a password it is mutual (certificate)
  // authentication, and AWS exports such profiles without the client certificate.
  const awsMutual = profile.isAws && profile.auth.kind === 'none';
  const needsCert = profile.auth.kind === 'certificate' || profile.auth.kind === 'certificate+password' || awsMutual;
  if (needsCert && profile.cert === null) {
    throw new ProfileUnusableError(
      `profile "${profile.name}" needs a client certificate but has none; attach one with \`causeway cert import --profile ${profile.id} …\``,
    );
  }
  if (profile.cert !== null && secrets.key === null) {
    throw new ProfileUnusableError(
      `the private key of profile "${profile.name}" is not in the keyring; import the profile or its certificate again`,
    );
  }
  const staticKey = (kind: keyof StaticKeys, present: boolean): string | null => {
    if (!present) return null;
    const text = secrets.staticKeys[kind];
    if (text === null) {
      throw new ProfileUnusableError(`the ${kind} key of profile "${profile.name}" is not in the secret store; import the profile again`);
    }
    return text;
  };
  const tlsAuthKey = staticKey('tls-auth', profile.tlsAuth !== null);
  const proxy = profile.proxy ?? null;
  if (proxy?.hasCredentials && secrets.proxyCredentials === null) {
    throw new ProfileUnusableError(`the proxy password of profile "${profile.name}" is not in the secret store; import the profile again`);
  }
  return {
    remotes: profile.remotes.map((r) => ({ host: r.host, port: r.port, proto: r.proto, family: r.family })),
    remoteRandom: profile.remoteRandom,
    remoteRandomHostname: profile.remoteRandomHostname,
    connectRetry: { ...profile.connectRetry },
    connectRetryMax: profile.connectRetryMax,
    handshakeWindowSec: profile.handshakeWindowSec,
    proxy: proxy && {
      kind: proxy.kind,
      host: proxy.host,
      port: proxy.port,
      credentials: (proxy.hasCredentials || proxy.askCredentials) && secrets.proxyCredentials ? { ...secrets.proxyCredentials } : null,
      httpVersion: proxy.httpVersion,
      userAgent: proxy.userAgent,
      customHeaders: proxy.customHeaders.map((h) => ({ ...h })),
    },
    ca: profile.ca,
    extraCerts: profile.extraCerts,
    cert: profile.cert,
    key: profile.cert !== null ? secrets.key : null,
    tlsAuth: profile.tlsAuth && tlsAuthKey !== null ? { key: tlsAuthKey, direction: profile.tlsAuth.direction } : null,
    tlsCrypt: staticKey('tls-crypt', profile.tlsCrypt),
    tlsCryptV2: staticKey('tls-crypt-v2', profile.tlsCryptV2),
    authDigest: profile.authDigest,
    tlsVersionMin: profile.tlsVersionMin,
    tlsVersionMax: profile.tlsVersionMax,
    dataCiphers: [...profile.dataCiphers],
    dataCiphersFallback: profile.dataCiphersFallback ?? null,
    remoteCertTls: profile.remoteCertTls,
    verifyX509Name: profile.verifyX509Name ? { ...profile.verifyX509Name } : null,
    peerFingerprints: [...(profile.peerFingerprints ?? [])],
    crl: profile.crl ?? null,
    verifyHash: profile.verifyHash ? { algorithm: profile.verifyHash.algorithm, fingerprints: [...profile.verifyHash.fingerprints] } : null,
    remoteCertKu: profile.remoteCertKu ? [...profile.remoteCertKu] : null,
    remoteCertEku: profile.remoteCertEku ?? null,
    authUserPass: profile.auth.userPass || profile.auth.kind === 'aws-saml',
    staticChallenge: profile.auth.staticChallenge ? { ...profile.auth.staticChallenge } : null,
    credentials: secrets.credentials ? { ...secrets.credentials } : null,
    awsFraming: profile.isAws,
    compression: profile.compression,
    keepalive: profile.keepalive ? { ...profile.keepalive } : null,
    renegSec: profile.renegSec,
    renegBytes: profile.renegBytes,
    tunMtu: profile.tunMtu,
    mssfix: profile.mssFix ? { ...profile.mssFix } : OPENVPN_DEFAULT_MSSFIX,
    routeNoPull: profile.routeNoPull,
    routes: [...profile.routes],
    routesIpv6: [...profile.routesIpv6],
    redirectGateway: profile.redirectGateway?.ipv4 ?? false,
    redirectGatewayIpv6: profile.redirectGateway?.ipv6 ?? false,
    excludedRoutes: [...profile.excludedRoutes],
    dns: {
      servers: [...profile.dns.servers],
      searchDomains: [...profile.dns.searchDomains],
      routeDomains: [...profile.dns.routeDomains],
    },
    blockIpv6: profile.blockIpv6,
    killSwitch: options.killSwitch,
    // The profile's `redirect-gateway block-local` takes the LAN away whatever the setting.
    allowLan: options.allowLan && !(profile.redirectGateway?.flags.includes('block-local') ?? false),
    guiVersion: options.guiVersion,
  };
}
