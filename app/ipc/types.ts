// The shapes that cross the renderer <-> main boundary. They are views made for the renderer:
// plain JSON (plus Uint8Array in call arguments), no secrets, no paths, no internal models.
// Main builds them from its own models (main/electron/core-service.ts); the renderer only reads them.

export type AuthKind = 'certificate' | 'password' | 'certificate+password' | 'static-challenge' | 'aws-saml' | 'none';

export interface RemoteView {
  host: string;
  port: number;
  proto: 'udp' | 'tcp';
}

export type ExpiryStatus = 'valid' | 'expiring-soon' | 'expired' | 'not-yet-valid';

export interface CertSummary {
  id: string;
  name: string;
  subject: string;
  issuer: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  expiry: ExpiryStatus;
  keyType: string;
  fingerprintSha256: string;
  /** Ids of the profiles using this certificate. */
  attachedTo: string[];
}

export interface ProfileSummary {
  id: string;
  name: string;
  /** The first remote, for the list; all of them are in the details. */
  remote: RemoteView | null;
  authKind: AuthKind;
  isAws: boolean;
  /** Whether the profile has a client certificate (inline or attached). */
  hasCertificate: boolean;
  /** The client certificate's expiry, when it has one. */
  certificateNotAfter: string | null;
  certificateExpiry: ExpiryStatus | null;
  /** The profile asks for a certificate (auth kind) but has none: attach one before connecting. */
  needsCertificate: boolean;
}

export interface StrippedDirective {
  directive: string;
  line: number | null;
  reason: string;
}

export interface ProfileDetails extends ProfileSummary {
  remotes: RemoteView[];
  certificate: CertSummary | null;
  /** Whether a password for this profile is saved in the system keyring. */
  passwordSaved: boolean;
  /** The profile's single sign-on (OpenID Connect) settings, or null when it has none. */
  oidc: OidcView | null;
  /** While connected or reconnecting, nothing leaves the computer but the tunnel and the VPN server. */
  killSwitch: boolean;
  /** The local network stays reachable while leak protection blocks the rest. */
  allowLan: boolean;
}

/** A profile's leak protection as the user sets it in its details. */
export interface LeakProtectionInput {
  killSwitch: boolean;
  allowLan: boolean;
}

/** Which token is sent to the VPN server as the password. */
export type OidcTokenKind = 'id_token' | 'access_token';

/** A profile's OpenID Connect settings as main stored them (validated and completed). */
export interface OidcView {
  issuer: string;
  clientId: string;
  scopes: string[];
  /** The token claim whose value is sent as the VPN username. */
  usernameClaim: string;
  token: OidcTokenKind;
}

/**
 * OpenID Connect settings as the user typed them (setProfileOidc). Main validates and completes
 * them: empty scopes mean the defaults, an empty username claim means "sub".
 */
export interface OidcSettingsInput {
  issuer: string;
  clientId: string;
  /** Space- or comma-separated. */
  scopes: string;
  usernameClaim: string;
  token: OidcTokenKind;
}

export type ImportVerdict =
  | { ok: true; profile: ProfileSummary; stripped: StrippedDirective[]; warnings: string[] }
  /** cancelled: the user declined a question (a key's passphrase); nothing is wrong with the file. */
  | { ok: false; cancelled: boolean; errors: { message: string; line: number | null }[] };

/** What a connection is doing, as the renderer shows it. */
export type ConnectionView =
  | { phase: 'idle' }
  | { phase: 'connecting'; step: 'resolving' | 'connecting' | 'authenticating'; server: string | null }
  | { phase: 'waiting-browser'; canReopen: boolean }
  | { phase: 'waiting-input'; promptId: string; kind: PromptKind }
  | {
      phase: 'connected';
      /** ISO 8601. */
      since: string;
      server: string | null;
      ipv4: string | null;
      ipv6: string | null;
      dnsServers: string[];
      /** When the server ends the session (AWS session timeout), ISO 8601. */
      sessionEndsAt: string | null;
    }
  | { phase: 'reconnecting'; reason: string | null }
  | { phase: 'disconnecting' }
  | {
      phase: 'failed';
      code: string;
      message: string;
      nextStep: string;
      /** What the server itself said, e.g. AWS's "error-msg-on-denied-connection" text. */
      serverMessage: string | null;
    };

export type ConnectionPhase = ConnectionView['phase'];

export interface TrafficStats {
  profileId: string;
  rxBytes: number;
  txBytes: number;
}

/**
 * password: username and password, plus the answer to `challenge` when it is set (static challenge);
 * mfa: only the answer to a static challenge (the password is saved);
 * challenge: one answer to a server's question (CRV1, CR_TEXT);
 * proxy-password: the proxy's username and password (`challenge` says which proxy), answered as `password`.
 */
export type PromptKind = 'password' | 'mfa' | 'challenge' | 'proxy-password';

export interface PromptRequest {
  id: string;
  profileId: string;
  profileName: string;
  kind: PromptKind;
  /** Text from the server or profile: the MFA or challenge question. */
  challenge: string | null;
  /** Whether the answer may be shown while typing (static-challenge `echo`). */
  echo: boolean;
  /** A username to prefill (saved, or sent by the server with a challenge). */
  username: string | null;
  /** Password prompts: the profile allows saving the password. */
  canRemember: boolean;
  /** Why we ask again (e.g. "The server rejected your password."), or null on the first ask. */
  retryReason: string | null;
}

export type PromptAnswer =
  | { kind: 'password'; username: string; password: string; response: string | null; remember: boolean }
  | { kind: 'response'; response: string };

/**
 * What a secret prompt asks for. Unlike a PromptRequest it belongs to no connection: main needs
 * one secret to go on with something the user started (an import whose key is locked). Each kind
 * has its own wording in the renderer (renderer/src/components/SecretPromptDialog.tsx).
 */
export type SecretPromptKind = 'key-passphrase' | 'pkcs12-password';

export interface SecretPrompt {
  id: string;
  kind: SecretPromptKind;
  /** Whose secret it is, as the user knows it: the profile's file name or the name it is imported as. */
  subject: string | null;
  /** The previous answer was wrong: the dialog says so. */
  retry: boolean;
}

export type BannerKind = 'server-message' | 'session-ending' | 'session-ended';

export interface Banner {
  id: string;
  profileId: string;
  profileName: string;
  kind: BannerKind;
  text: string;
  /** ISO 8601. */
  at: string;
}

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LogLine {
  profileId: string;
  /** One connection attempt; the Logs view groups lines by it. */
  sessionId: string;
  at: string;
  level: LogLevel;
  /** Already redacted by main. */
  text: string;
}

export interface Settings {
  /** Profile to connect when the app starts, or null. */
  connectOnStartup: string | null;
  startMinimized: boolean;
  notifications: boolean;
  /** Kill switch of profiles imported from now on (the CLI's import follows it too). */
  newProfileKillSwitch: boolean;
  /** LAN access of profiles imported from now on. */
  newProfileAllowLan: boolean;
}

export interface EnvironmentInfo {
  version: string;
  /** Where secrets live ('secret-service', 'keychain', …) and whether they survive a restart. */
  secretBackend: string;
  secretsPersistent: boolean;
  secretsReason: string | null;
}

/** Everything the renderer shows; main pushes it at start and whenever lists or settings change. */
export interface AppSnapshot {
  profiles: ProfileSummary[];
  connections: Record<string, ConnectionView>;
  stats: Record<string, TrafficStats>;
  prompts: PromptRequest[];
  /** Open secret prompts (import passphrases), oldest first. */
  secretPrompts: SecretPrompt[];
  banners: Banner[];
  certs: CertSummary[];
  settings: Settings;
  environment: EnvironmentInfo;
}
