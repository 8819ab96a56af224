// The main <-> causeway-helper protocol, version 1. Mirrors native/helper/src/protocol.rs;
// test/vectors/helper-protocol/ holds messages both sides must accept (and reject).
//
// Framing: each message is a u32 big-endian byte length followed by that many bytes of UTF-8
// JSON (one object). Frames over MAX_FRAME_BYTES are a protocol error and close the channel.
// Every object carries `type`; unknown types and unknown fields are rejected (closed set).
// Secrets (keys, passwords, SAML responses, tokens) travel only in `connect.config`,
// `credentials` and `crResponse`, and are never echoed back in any helper message.

export const PROTOCOL_VERSION = 1;
/** Large enough for a 128 KiB SAML password base64-wrapped inside JSON, with headroom. */
export const MAX_FRAME_BYTES = 1024 * 1024;

export type Proto = 'udp' | 'tcp';

export interface Remote {
  host: string;
  port: number;
  proto: Proto;
}

export type DataCipher = 'AES-256-GCM' | 'AES-128-GCM' | 'CHACHA20-POLY1305';

export interface VerifyX509Name {
  name: string;
  type: 'subject' | 'name' | 'name-prefix';
}

/** A fully normalized engine configuration, built by main from a stored Profile. */
export interface EngineConfig {
  remotes: Remote[];
  /** Shuffle the remote list once per connection (`remote-random`). */
  remoteRandom: boolean;
  /** Prepend a random label to each hostname before resolving (`remote-random-hostname`). */
  remoteRandomHostname: boolean;
  /** `connect-retry` base and cap, seconds. */
  connectRetry: { initialSec: number; maxSec: number };
  /** Give up after this many failed attempts over the whole list (`connect-retry-max`); null = never. */
  connectRetryMax: number | null;
  /** Time allowed for one TLS handshake (`hand-window`), seconds. */
  handshakeWindowSec: number;

  /** PEM: the CA bundle that must sign the server chain. */
  ca: string;
  /** PEM: intermediates (`extra-certs`). */
  extraCerts: string | null;
  /** PEM client certificate and private key (key never leaves the helper). */
  cert: string | null;
  key: string | null;

  /** OpenVPN static key text and `key-direction` (null = bidirectional). */
  tlsAuth: { key: string; direction: 0 | 1 | null } | null;
  tlsCrypt: string | null;
  /** The client's tls-crypt-v2 key file text (client key + wrapped key). */
  tlsCryptV2: string | null;
  /** HMAC digest for tls-auth (`auth` directive); default SHA1. */
  authDigest: 'SHA1' | 'SHA256' | 'SHA512';

  tlsVersionMin: '1.2' | '1.3';
  tlsVersionMax: '1.2' | '1.3' | null;
  /** Preference order, as sent in IV_CIPHERS. */
  dataCiphers: DataCipher[];
  remoteCertTls: 'server' | null;
  verifyX509Name: VerifyX509Name | null;

  /** Whether the server expects username/password in key method 2 (`auth-user-pass`). */
  authUserPass: boolean;
  /** `static-challenge "text" echo`: the engine asks for the answer and sends SCRV1. */
  staticChallenge: { text: string; echo: boolean } | null;
  /** Credentials known before connecting (saved password, or the AWS SAML first leg). */
  credentials: { username: string; password: string } | null;
  /** AWS Client VPN endpoint: enables the u32 credential framing for long passwords. */
  awsFraming: boolean;

  /** Framing for `compress`/`comp-lzo no` servers; we never compress. */
  compression: 'none' | 'comp-lzo-no' | 'compress-stub' | 'compress-stub-v2';
  keepalive: { intervalSec: number; timeoutSec: number } | null;
  renegSec: number;
  renegBytes: number | null;
  tunMtu: number;

  /** Ignore routes the server pushes (`route-nopull`). */
  routeNoPull: boolean;
  /** Routes from the profile itself, CIDR form ("10.0.0.0/8"). */
  routes: string[];
  routesIpv6: string[];
  redirectGateway: boolean;
  /** Routes that bypass the tunnel via the original default path (`route … net_gateway`), CIDR, IPv4 and IPv6. */
  excludedRoutes: string[];
  /** The profile's own DNS (`dhcp-option DNS/DOMAIN/…`, `dns …`); the helper adds it to what the server pushes. */
  dns: DnsOptions;
  /** Leak protection (issue "Installable and leak-free"). */
  blockIpv6: boolean;
  killSwitch: boolean;

  /** IV_GUI_VER sent in peer info. */
  guiVersion: string;
}

export type SessionPhase =
  | 'resolving'
  | 'connecting'
  | 'authenticating'
  | 'connected'
  | 'reconnecting'
  | 'disconnecting'
  | 'disconnected'
  | 'failed';

/** Why a session failed or was dropped; main maps each to a user-facing message. */
export type ErrorCode =
  | 'auth-failed'
  | 'server-unreachable'
  | 'tls-version-refused'
  | 'server-cert-rejected'
  | 'client-cert-rejected'
  | 'tls-failed'
  | 'protocol-error'
  | 'halted'
  | 'session-expired'
  | 'tun-failed'
  | 'network-setup-failed'
  | 'config-invalid'
  | 'unknown-session'
  | 'bad-message'
  | 'permission-denied'
  | 'internal';

/** DNS servers and domains, from the profile or pushed by the server. */
export interface DnsOptions {
  servers: string[];
  searchDomains: string[];
  /** Split DNS: only these names go to `servers` ("." = all names). */
  routeDomains: string[];
}

export interface PushedSettings {
  ipv4: { address: string; prefix: number; gateway: string | null } | null;
  ipv6: { address: string; prefix: number } | null;
  routes: string[];
  routesIpv6: string[];
  redirectGateway: boolean;
  dns: DnsOptions;
  mtu: number;
  /** Device the helper created (e.g. "cw0"). */
  device: string;
  peerId: number | null;
  cipher: DataCipher;
  /** Seconds until the server ends the session, when it says so (AWS session timeout). */
  sessionTimeoutSec: number | null;
}

// ---- main -> helper ----

export type ClientMessage =
  | { type: 'hello'; version: number; client: string }
  | { type: 'connect'; session: string; config: EngineConfig }
  | {
      type: 'credentials';
      session: string;
      /** password: username+password; static-challenge: also `response`; crv1: only `response`. */
      username: string | null;
      password: string | null;
      response: string | null;
    }
  | { type: 'crResponse'; session: string; response: string }
  | { type: 'disconnect'; session: string }
  | { type: 'status' };

// ---- helper -> main ----

export interface SessionStatus {
  session: string;
  phase: SessionPhase;
  uid: number | null;
  device: string | null;
  rxBytes: number;
  txBytes: number;
  connectedSince: string | null;
}

export type HelperMessage =
  | { type: 'hello'; version: number; helper: string }
  | {
      type: 'state';
      session: string;
      phase: SessionPhase;
      /** The remote being tried or used: hostname as configured and resolved address. */
      remote: { host: string; address: string; port: number; proto: Proto } | null;
      /** Set when phase is 'failed' (or 'reconnecting' after an error). */
      error: { code: ErrorCode; message: string } | null;
    }
  | {
      type: 'needCredentials';
      session: string;
      kind: 'password' | 'static-challenge' | 'crv1';
      /** Static challenge or CRV1 text shown to the user (for AWS SAML: the IdP URL). */
      challenge: string | null;
      echo: boolean;
      /** Username to show/keep (CRV1 carries one). */
      username: string | null;
    }
  | {
      type: 'authPending';
      session: string;
      method: 'webauth' | 'openurl' | 'crtext';
      /** URL for webauth/openurl; challenge text for crtext. */
      payload: string;
      echo: boolean;
      timeoutSec: number;
    }
  | { type: 'pushed'; session: string; settings: PushedSettings }
  | { type: 'echo'; session: string; text: string }
  | { type: 'stats'; session: string; rxBytes: number; txBytes: number }
  | { type: 'log'; session: string | null; level: 'error' | 'warn' | 'info' | 'debug'; text: string }
  | { type: 'error'; session: string | null; code: ErrorCode; message: string }
  | { type: 'statusReply'; sessions: SessionStatus[] };
