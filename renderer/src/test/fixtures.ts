// Realistic view data for the component tests.
import type { AppSnapshot, Banner, CertSummary, ProfileDetails, ProfileSummary, PromptRequest, SecretPrompt } from '../../../app/ipc/types';

export const workProfile: ProfileSummary = {
  id: 'work',
  name: 'Work VPN',
  remote: { host: 'vpn.example.com', port: 1194, proto: 'udp' },
  authKind: 'password',
  isAws: false,
  hasCertificate: false,
  certificateNotAfter: null,
  certificateExpiry: null,
  needsCertificate: false,
};

/** Like workProfile (no certificate), but an AWS Client VPN endpoint with SAML sign-in. */
export const awsProfile: ProfileSummary = {
  ...workProfile,
  id: 'aws',
  name: 'AWS Dev',
  remote: { host: 'cvpn-endpoint-0abc.prod.clientvpn.eu-west-1.amazonaws.com', port: 443, proto: 'udp' },
  authKind: 'aws-saml',
  isAws: true,
};

export const cert: CertSummary = {
  id: 'c1',
  name: 'laptop',
  subject: 'CN=alice',
  issuer: 'CN=Example CA',
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2026-12-01T00:00:00.000Z',
  expiry: 'expiring-soon',
  keyType: 'EC P-256',
  fingerprintSha256: 'AB:CD:EF',
  attachedTo: [],
};

export function snapshot(over: Partial<AppSnapshot> = {}): AppSnapshot {
  return {
    profiles: [workProfile],
    connections: {},
    stats: {},
    prompts: [],
    secretPrompts: [],
    banners: [],
    certs: [],
    settings: { connectOnStartup: null, startMinimized: false, notifications: true, newProfileKillSwitch: false, newProfileAllowLan: true },
    environment: { version: '0.1.0', secretBackend: 'secret-service', secretsPersistent: true, secretsReason: null },
    ...over,
  };
}

export const passwordPrompt: PromptRequest = {
  id: 'q1',
  profileId: 'work',
  profileName: 'Work VPN',
  kind: 'password',
  challenge: null,
  echo: false,
  username: null,
  canRemember: true,
  retryReason: null,
};

export const keyPassphrasePrompt: SecretPrompt = { id: 'secret-1', kind: 'key-passphrase', subject: 'office.ovpn', retry: false };

export const banner: Banner = {
  id: 'b1',
  profileId: 'work',
  profileName: 'Work VPN',
  kind: 'server-message',
  text: 'Authorized use only. Activity is monitored.',
  at: '2026-11-22T10:42:00.000Z',
};

export const details: ProfileDetails = {
  ...workProfile,
  remotes: [
    { host: 'vpn.example.com', port: 1194, proto: 'udp' },
    { host: 'vpn2.example.com', port: 443, proto: 'tcp' },
  ],
  certificate: null,
  passwordSaved: true,
  oidc: null,
  killSwitch: false,
  allowLan: true,
};
