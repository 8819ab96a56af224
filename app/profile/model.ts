// The normalized Profile model: what Causeway keeps of an imported .ovpn file.
//
// It holds only understood, allowlisted settings, already validated and defaulted, so that
// main can build the helper's EngineConfig (app/helper-protocol/messages.ts) from it field by
// field without looking at the original text again. Field names match EngineConfig where the
// meaning is the same. The client private key and any saved password are NOT part of this
// model: they live in the SecretStore (accounts `profile/<id>/key` and `profile/<id>/password`);
// `hasKey` / `auth.hasSavedPassword` only say that they exist. So do the tls-auth, tls-crypt and
// tls-crypt-v2 keys (`profile/<id>/tls-auth|tls-crypt|tls-crypt-v2`): a tls-crypt-v2 client key
// is a per-client credential, and either key lets a stranger past the server's HMAC firewall.
import type {
  AddressFamily,
  DataCipher,
  EngineConfig,
  HttpHeader,
  HttpVersion,
  MssFix,
  Proto,
  ProxyKind,
  Remote,
  StaticChallenge,
  TlsAuth,
  VerifyX509Name,
} from '../helper-protocol/messages.js';

export type { AddressFamily, DataCipher, Proto, Remote, VerifyX509Name };

/** Bumped when the persisted JSON shape changes incompatibly. */
export const PROFILE_SCHEMA_VERSION = 1;

/**
 * How the user proves who they are.
 * - certificate: client certificate and key only
 * - password: `auth-user-pass` only (server verified by CA, no client certificate)
 * - certificate+password: both (AWS mutual + directory, OpenVPN AS with user-locked certs)
 * - static-challenge: password plus a one-time code sent as SCRV1 (`static-challenge`)
 * - aws-saml: AWS Client VPN federated login (`auth-federate`): browser SAML, then the
 *   assertion as the password
 * - none: neither (the server must accept the TLS handshake alone; unusual but valid)
 */
export type AuthKind = 'certificate' | 'password' | 'certificate+password' | 'static-challenge' | 'aws-saml' | 'none';

export interface ProfileAuth {
  kind: AuthKind;
  /** `auth-user-pass` present: the server expects a username and password in key method 2. */
  userPass: boolean;
  /** `static-challenge "text" echo`. */
  staticChallenge: StaticChallenge | null;
  /** `auth-retry none|nointeract|interact` (default none). */
  retry: 'none' | 'nointeract' | 'interact';
  /** `auth-nocache`: do not keep the password in memory after use. */
  noCache: boolean;
  /** Username from an inline `<auth-user-pass>` block (the password, if any, is a secret). */
  username: string | null;
  /** A password from an inline `<auth-user-pass>` block was saved in the SecretStore. */
  hasSavedPassword: boolean;
}

/** A profile's OIDC provider and how its token is presented to the VPN server. */
export interface ProfileOidc {
  /** Issuer URL (https, or http on this computer for local test providers). */
  issuer: string;
  /** Public (native) client id registered at the provider; there is no client secret. */
  clientId: string;
  scopes: string[];
  /** ID-token (or userinfo) claim whose value is sent as the VPN username. */
  usernameClaim: string;
  /** Which token is sent as the VPN password. */
  token: 'id_token' | 'access_token';
}

export interface TlsAuthSettings {
  /** `key-direction` / the tls-auth direction argument; null = bidirectional. */
  direction: TlsAuth['direction'];
}

export interface RedirectGateway {
  /** Route all IPv4 through the tunnel (absent `!ipv4`). */
  ipv4: boolean;
  /** Route all IPv6 through the tunnel (`ipv6` flag). */
  ipv6: boolean;
  /** The flags as written (def1, bypass-dhcp, bypass-dns, local, autolocal, block-local, ipv6, !ipv4). */
  flags: string[];
}

/**
 * `http-proxy` or `socks-proxy`: the remotes are reached through this proxy (an HTTP proxy carries
 * TCP remotes only). Its username and password are a secret (SecretStore
 * `profile/<id>/proxy-credentials`); `hasCredentials` only says they were saved at import.
 */
export interface ProfileProxy {
  kind: ProxyKind;
  host: string;
  port: number;
  hasCredentials: boolean;
  /**
   * `http-proxy … stdin|auto` without a block, `socks-proxy … stdin`: the username and password
   * are asked for when connecting (and kept in the secret store if the user says so). Absent in
   * profiles stored before it existed: false.
   */
  askCredentials?: boolean;
  /** `http-proxy-option VERSION` (default 1.0, as OpenVPN). */
  httpVersion: HttpVersion;
  /** `http-proxy-option AGENT`; null = none sent. */
  userAgent: string | null;
  /** `http-proxy-option CUSTOM-HEADER name value`, in file order. */
  customHeaders: HttpHeader[];
}

export interface ProfileDns {
  /** `dhcp-option DNS`/`DNS6` and `dns server N address` addresses, in file order. */
  servers: string[];
  /** `dhcp-option DOMAIN` (first one is the connection domain) and `DOMAIN-SEARCH`, `dns search-domains`. */
  searchDomains: string[];
  /** Split DNS: `dhcp-option DOMAIN-ROUTE` and `dns server N resolve-domains` ("." = all names). */
  routeDomains: string[];
}

/**
 * The settings a profile hands to the engine as they are: the same name, type and meaning as in
 * EngineConfig (documented there). What the profile text leaves out is defaulted at import as
 * OpenVPN does: `connect-retry` 1 s / 300 s, `hand-window` 60 s, `auth` SHA1, `reneg-sec` 3600
 * (AWS exports 0), `tun-mtu` 1500. `remotes` are in file order (with `<connection>` blocks only
 * theirs, as in OpenVPN) and never empty; `dataCiphers` is never empty.
 */
type SettingsAsInEngineConfig =
  | 'remotes'
  | 'remoteRandom'
  | 'remoteRandomHostname'
  | 'connectRetry'
  | 'connectRetryMax'
  | 'handshakeWindowSec'
  | 'ca'
  | 'extraCerts'
  | 'cert'
  | 'authDigest'
  | 'tlsVersionMin'
  | 'tlsVersionMax'
  | 'dataCiphers'
  | 'remoteCertTls'
  | 'verifyX509Name'
  | 'compression'
  | 'keepalive'
  | 'renegSec'
  | 'renegBytes'
  | 'tunMtu'
  | 'routeNoPull'
  | 'routes'
  | 'excludedRoutes'
  | 'routesIpv6'
  | 'blockIpv6';

export interface ProfileSettings extends Pick<EngineConfig, SettingsAsInEngineConfig> {
  // ---- transport ----
  /** `connect-timeout` / `server-poll-timeout` for TCP (default 120 s). */
  connectTimeoutSec: number;
  /** `explicit-exit-notify [n]`: tell the server on disconnect (UDP); 0 = off. */
  explicitExitNotify: number;
  /** `http-proxy` / `socks-proxy`; optional so profiles stored before it existed still read; absent or null = connect directly. */
  proxy?: ProfileProxy | null;

  // ---- keys and certificates (PEM text; the private key is a secret, see hasKey) ----
  /** The profile carried a client private key (stored in the SecretStore, never in this JSON). */
  hasKey: boolean;
  /** `tls-auth` present (its key is a secret in the SecretStore). */
  tlsAuth: TlsAuthSettings | null;
  /** `tls-crypt` present (its key is a secret in the SecretStore). */
  tlsCrypt: boolean;
  /** `tls-crypt-v2` present (the client key is a secret in the SecretStore). */
  tlsCryptV2: boolean;

  // ---- TLS and data channel ----
  /** `data-ciphers-fallback` (EngineConfig's, documented there); optional so profiles stored before it still read. */
  dataCiphersFallback?: DataCipher | null;
  // Stricter server checks (OpenVPN 2.6), enforced by the engine's certificate verifier. Optional
  // so profiles stored before they existed still read; absent means not set.
  /** `peer-fingerprint`: SHA-256 fingerprints ("AB:CD:…") one of which the server certificate must have; with no CA they are the only trust. */
  peerFingerprints?: string[];
  /** `crl-verify` (inline or file): PEM revocation lists; a revoked or uncovered server certificate is refused. */
  crl?: string | null;
  /** `verify-hash`: fingerprints one of which the certificate that issued the server's must have. */
  verifyHash?: { algorithm: 'SHA1' | 'SHA256'; fingerprints: string[] } | null;
  /** `remote-cert-ku`: null = no check; [] = the key usage extension must be present; else one set of bits (OpenVPN order, 0x80 = digitalSignature) must be. */
  remoteCertKu?: number[] | null;
  /** `remote-cert-eku`: an extended key usage OID the server certificate must carry. */
  remoteCertEku?: string | null;

  // ---- authentication ----
  auth: ProfileAuth;

  /**
   * OpenID Connect sign-in whose token is sent as the password (set at import with
   * `--oidc-issuer … --oidc-client-id …`, validated by main/auth/oidc-settings.ts); absent = none.
   */
  oidc?: ProfileOidc | null;

  // ---- AWS Client VPN ----
  /** `auth-federate` or a `cvpn-endpoint-….amazonaws.com` remote. */
  isAws: boolean;
  /** From the remote hostname (or the AWS VPN Client's profile index when migrated). */
  aws: { endpointId: string | null; region: string | null } | null;

  // ---- timers, MTU ----
  /** `mssfix max [mtu|fixed]`; null = OpenVPN's default, 1492 mtu; `max` 0 turns the clamp off. */
  mssFix: MssFix | null;
  /** `inactive n` seconds: disconnect after n seconds without tunnel traffic; null = never. */
  inactiveSec: number | null;

  // ---- routing and DNS ----
  redirectGateway: RedirectGateway | null;
  dns: ProfileDns;
  /** `ifconfig-ipv6 addr/bits remote` from the profile (AWS's IPv6 leak-prevention recipe). */
  ifconfigIpv6: { address: string; prefix: number; remote: string } | null;
  /** `block-outside-dns` (a Windows hint; recorded so the leak-protection setting can honour it). */
  blockOutsideDns: boolean;

  /** `setenv IV_*` / `push-peer-info`: extra peer-info sent to the server. */
  peerInfo: Record<string, string>;
  pushPeerInfo: boolean;
}

/**
 * Leak protection the user chose for a profile (not from the .ovpn file): `causeway set`, the
 * app's profile details. New profiles get the defaults from Settings (main/profiles/leak-defaults.ts).
 */
export interface LeakProtection {
  /** While connected or reconnecting, nothing leaves the machine but the tunnel and the VPN server. */
  killSwitch: boolean;
  /** The directly connected local network stays reachable while leak protection blocks the rest. */
  allowLan: boolean;
}

/** What a profile stored before these settings existed reads as, and the default for new ones. */
export const DEFAULT_LEAK_PROTECTION: LeakProtection = Object.freeze({ killSwitch: false, allowLan: true });

/** A stored profile: settings plus identity. This is exactly the persisted JSON. */
export interface Profile extends ProfileSettings, LeakProtection {
  schemaVersion: typeof PROFILE_SCHEMA_VERSION;
  /** Stable id: lowercase letters, digits and dashes (file name in the store). */
  id: string;
  /** Display name, unique in the store. */
  name: string;
  /** ISO 8601 time of import. */
  importedAt: string;
  source: {
    /** Base name of the imported file, when there was one. */
    fileName: string | null;
    importer: 'ovpn' | 'aws-vpn-client';
  };
}
