// Turns main's models into the views the renderer shows (app/ipc/types.ts). Electron-free.
import { X509Certificate } from 'node:crypto';
import type { ConnectionState } from '../../app/connection/state';
import { FAILURE_MESSAGES } from '../../app/connection/messages';
import type { PushedSettings } from '../../app/helper-protocol/messages';
import type { Profile, ProfileIssue } from '../../app/profile';
import type { CertSummary, ConnectionView, ExpiryStatus, ImportVerdict, PromptKind, ProfileSummary, StrippedDirective } from '../../app/ipc/types';
import { certificateDetails, expiryStatus, type CertificateDetails } from '../certs/certificate';

const ipcExpiry: Record<ReturnType<typeof expiryStatus>, ExpiryStatus> = {
  valid: 'valid',
  expiring: 'expiring-soon',
  expired: 'expired',
  'not-yet-valid': 'not-yet-valid',
};

/** A certificate as the Certificates view and the profile details show it. */
export function certSummary(
  c: { id: string; name: string; details: CertificateDetails; attachedTo: string[] },
  now: number = Date.now(),
): CertSummary {
  return {
    id: c.id,
    name: c.name,
    subject: c.details.subject,
    issuer: c.details.issuer,
    notBefore: c.details.validFrom,
    notAfter: c.details.validTo,
    expiry: ipcExpiry[expiryStatus(c.details, now)],
    keyType: c.details.keyType,
    fingerprintSha256: c.details.fingerprint256,
    attachedTo: c.attachedTo,
  };
}

/** Details of a profile's own client certificate (inline in the .ovpn or attached). */
export function profileCertificate(p: Profile, now: number = Date.now()): CertSummary | null {
  if (!p.cert) return null;
  try {
    const details = certificateDetails(new X509Certificate(p.cert));
    const cn = /(?:^|, )CN=([^,]+)/.exec(details.subject)?.[1];
    return certSummary({ id: `profile-${p.id}`, name: cn ?? 'Client certificate', details, attachedTo: [p.id] }, now);
  } catch {
    return null;
  }
}

const usesCertificate = (p: Profile) => p.auth.kind === 'certificate' || p.auth.kind === 'certificate+password';

export function profileSummary(p: Profile, now: number = Date.now()): ProfileSummary {
  const cert = profileCertificate(p, now);
  const first = p.remotes[0];
  return {
    id: p.id,
    name: p.name,
    remote: first ? { host: first.host, port: first.port, proto: first.proto } : null,
    authKind: p.auth.kind,
    isAws: p.isAws,
    hasCertificate: p.cert !== null && p.hasKey,
    certificateNotAfter: cert?.notAfter ?? null,
    certificateExpiry: cert?.expiry ?? null,
    needsCertificate: usesCertificate(p) && !(p.cert !== null && p.hasKey),
  };
}

const STRIPPED = /^(\S+) was removed: (.+)$/;

/** Splits the importer's issues into removed directives (with why) and other warnings. */
export function importVerdict(outcome: { ok: boolean; profile: Profile | null; warnings: ProfileIssue[]; errors: ProfileIssue[]; cancelled?: true }): ImportVerdict {
  if (!outcome.ok || !outcome.profile) {
    return { ok: false, cancelled: outcome.cancelled === true, errors: outcome.errors.map((e) => ({ message: capitalize(e.message), line: e.line })) };
  }
  const stripped: StrippedDirective[] = [];
  const warnings: string[] = [];
  for (const w of outcome.warnings) {
    const m = STRIPPED.exec(w.message);
    if (m) stripped.push({ directive: m[1]!, line: w.line, reason: m[2]! });
    else warnings.push(`${w.line !== null ? `Line ${w.line}: ` : ''}${w.message}`);
  }
  return { ok: true, profile: profileSummary(outcome.profile), stripped, warnings };
}

function capitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** Next steps written for the desktop app where the shared text points at the CLI. */
const desktopNextSteps: Partial<Record<keyof typeof FAILURE_MESSAGES, string>> = {
  'client-certificate-rejected': 'Your certificate may be expired or revoked. Import a new one under Certificates.',
  internal: 'Try again; if it keeps failing, report it with this profile’s log from the Logs view.',
};

/**
 * The server's own words from a failure detail: the engine reports AUTH_FAILED with a reason as
 * "authentication failed: <reason>" (AWS puts its denied-connection message there).
 */
function serverMessage(detail: string | null): string | null {
  const m = detail ? /^authentication failed: (.+)$/s.exec(detail) : null;
  return m ? m[1]!.trim() : null;
}

export interface ViewContext {
  pushed: PushedSettings | null;
  /** The open prompt of this profile, if any. */
  prompt: { id: string; kind: PromptKind } | null;
  /** Whether a login page was opened for this profile and can be opened again. */
  canReopen: boolean;
}

export function connectionView(state: ConnectionState, ctx: ViewContext): ConnectionView {
  switch (state.phase) {
    case 'idle':
      return { phase: 'idle' };
    case 'resolving':
      return { phase: 'connecting', step: 'resolving', server: null };
    case 'connecting':
      return { phase: 'connecting', step: 'connecting', server: state.remote?.host ?? null };
    case 'authenticating':
      if (state.waiting === 'browser') return { phase: 'waiting-browser', canReopen: ctx.canReopen };
      if (state.waiting !== 'server' && ctx.prompt) return { phase: 'waiting-input', promptId: ctx.prompt.id, kind: ctx.prompt.kind };
      return { phase: 'connecting', step: 'authenticating', server: state.remote?.host ?? null };
    case 'connected': {
      const timeout = ctx.pushed?.sessionTimeoutSec ?? null;
      return {
        phase: 'connected',
        since: new Date(state.since).toISOString(),
        server: state.remote?.host ?? null,
        ipv4: ctx.pushed?.ipv4?.address ?? null,
        ipv6: ctx.pushed?.ipv6?.address ?? null,
        dnsServers: ctx.pushed?.dns.servers ?? [],
        sessionEndsAt: timeout ? new Date(state.since + timeout * 1000).toISOString() : null,
      };
    }
    case 'reconnecting':
      return { phase: 'reconnecting', reason: state.cause };
    case 'disconnecting':
      return { phase: 'disconnecting' };
    case 'failed': {
      const m = FAILURE_MESSAGES[state.reason];
      return {
        phase: 'failed',
        code: state.reason,
        message: `${m.title}.`,
        nextStep: desktopNextSteps[state.reason] ?? m.nextStep,
        serverMessage: serverMessage(state.detail),
      };
    }
  }
}
