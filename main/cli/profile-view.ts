// What `causeway show`, `list` and `import` print about a profile. Certificates are summarized
// (subject, expiry, fingerprint); static keys and private keys are never printed, only whether
// they are present.
import { X509Certificate } from 'node:crypto';
import type { LeakProtection, Profile, ProfileIssue } from '../../app/profile/index.js';

export interface CertSummary {
  subject: string;
  issuer: string;
  validTo: string;
  sha256: string;
}

function certSummaries(pem: string | null): CertSummary[] {
  if (!pem) return [];
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => {
    try {
      const c = new X509Certificate(b);
      return { subject: c.subject.replace(/\n/g, ', '), issuer: c.issuer.replace(/\n/g, ', '), validTo: new Date(c.validTo).toISOString(), sha256: c.fingerprint256 };
    } catch {
      return { subject: '(unreadable certificate)', issuer: '', validTo: '', sha256: '' };
    }
  });
}

/** The profile with key material replaced by summaries: safe to print and stable as JSON. */
export function profileView(p: Profile) {
  const { ca, extraCerts, cert, tlsAuth, tlsCrypt, tlsCryptV2, ...rest } = p;
  return {
    ...rest,
    ca: certSummaries(ca),
    extraCerts: certSummaries(extraCerts),
    cert: certSummaries(cert)[0] ?? null,
    tlsAuth: tlsAuth ? { present: true, direction: tlsAuth.direction } : null,
    tlsCrypt,
    tlsCryptV2,
  };
}

export function profileSummary(p: Profile) {
  return {
    id: p.id,
    name: p.name,
    auth: p.auth.kind,
    remotes: p.remotes.map((r) => `${r.host}:${r.port}/${r.proto}`),
    isAws: p.isAws,
    importedAt: p.importedAt,
  };
}

export function formatIssue(kind: 'warning' | 'error', i: ProfileIssue): string {
  const where = i.line !== null ? `line ${i.line}: ` : '';
  return `${kind}: ${where}${i.message}`;
}

const AUTH_TEXT: Record<Profile['auth']['kind'], string> = {
  certificate: 'client certificate',
  password: 'username and password',
  'certificate+password': 'client certificate + username and password',
  'static-challenge': 'username, password and one-time code',
  'aws-saml': 'AWS single sign-on (browser)',
  none: 'none',
};

/** The profile's leak protection in words, e.g. "kill switch on, local network allowed". */
export function leakProtectionWords(p: LeakProtection): string {
  return `kill switch ${p.killSwitch ? 'on' : 'off'}, local network ${p.allowLan ? 'allowed' : 'blocked'}`;
}

/** Human-readable description, several lines. */
export function describeProfile(p: Profile): string {
  const v = profileView(p);
  const lines = [
    `${p.name}${p.id ? `  (id ${p.id})` : ''}`,
    `  servers:        ${p.remotes.map((r) => `${r.host}:${r.port}/${r.proto}`).join(', ')}${p.remoteRandom ? ' (random order)' : ''}`,
    `  sign-in:        ${AUTH_TEXT[p.auth.kind]}${p.auth.staticChallenge ? ` — "${p.auth.staticChallenge.text.trim()}"` : ''}`,
  ];
  if (p.isAws) lines.push(`  AWS Client VPN: ${p.aws?.endpointId ?? 'endpoint'}${p.aws?.region ? ` in ${p.aws.region}` : ''}`);
  for (const c of v.ca) lines.push(`  CA:             ${c.subject} (expires ${c.validTo.slice(0, 10)})`);
  if (v.cert) lines.push(`  certificate:    ${v.cert.subject} (expires ${v.cert.validTo.slice(0, 10)})${p.hasKey ? ', key in secret store' : ''}`);
  const wrap = p.tlsCryptV2 ? 'tls-crypt-v2' : p.tlsCrypt ? 'tls-crypt' : p.tlsAuth ? `tls-auth${p.tlsAuth.direction !== null ? ` (direction ${p.tlsAuth.direction})` : ''}` : 'none';
  const fallback = p.dataCiphersFallback ? `; fallback ${p.dataCiphersFallback}` : '';
  lines.push(`  control channel: ${wrap}; TLS ${p.tlsVersionMin}+; ciphers ${p.dataCiphers.join(', ')}${fallback}`);
  if (p.verifyX509Name) lines.push(`  server name:    ${p.verifyX509Name.name} (${p.verifyX509Name.type})`);
  if (p.routes.length || p.routesIpv6.length) lines.push(`  routes:         ${[...p.routes, ...p.routesIpv6].slice(0, 8).join(', ')}${p.routes.length + p.routesIpv6.length > 8 ? ', …' : ''}`);
  if (p.redirectGateway) lines.push(`  all traffic:    through the VPN${p.redirectGateway.ipv6 ? ' (IPv4 and IPv6)' : ''}`);
  if (p.dns.servers.length || p.dns.searchDomains.length) {
    lines.push(`  DNS:            ${[...p.dns.servers, ...p.dns.searchDomains.map((d) => `search ${d}`)].join(', ')}`);
  }
  if (p.dns.routeDomains.length) {
    const all = p.dns.routeDomains.includes('.');
    lines.push(`  DNS through VPN: ${all ? 'all names' : p.dns.routeDomains.join(', ')}`);
  }
  if (p.excludedRoutes.length) lines.push(`  outside VPN:    ${p.excludedRoutes.join(', ')}`);
  lines.push(`  leak protection: ${leakProtectionWords(p)}`);
  lines.push(`  imported:       ${p.importedAt}${p.source.fileName ? ` from ${p.source.fileName}` : ''}${p.source.importer === 'aws-vpn-client' ? ' (AWS VPN Client)' : ''}`);
  return `${lines.join('\n')}\n`;
}
