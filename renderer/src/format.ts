// Plain words for what the app shows. Kept apart from the components so the wording is tested once
// and reads the same everywhere (cards, dialogs).
import type { AuthKind, ConnectionView, ExpiryStatus, PromptKind } from '../../app/ipc/types';

export type Tone = 'neutral' | 'busy' | 'good' | 'attention' | 'bad';

export interface ConnectionWords {
  headline: string;
  detail: string | null;
  tone: Tone;
}

/** 24-hour clock, like "10:42". */
export function clockTime(iso: string): string {
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

export function calendarDate(iso: string): string {
  return new Date(iso).toLocaleDateString('en-GB', { year: 'numeric', month: 'long', day: 'numeric' });
}

/** "42 s", "3 min 05 s", "2 h 07 min". */
export function duration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(s).padStart(2, '0')} s`;
  return `${s} s`;
}

export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

const inputWords: Record<PromptKind, string> = {
  password: 'Enter your username and password',
  mfa: 'Enter your MFA code',
  challenge: 'Answer the server’s question',
  'proxy-password': 'Enter the proxy’s username and password',
};

export function describeConnection(view: ConnectionView): ConnectionWords {
  switch (view.phase) {
    case 'idle':
      return { headline: 'Not connected', detail: null, tone: 'neutral' };
    case 'connecting': {
      const detail = {
        resolving: 'Looking up the server',
        connecting: view.server ? `Reaching ${view.server}` : 'Reaching the server',
        authenticating: 'Checking your credentials',
      }[view.step];
      return { headline: 'Connecting…', detail, tone: 'busy' };
    }
    case 'waiting-browser':
      return { headline: 'Waiting for you to log in in your browser', detail: 'Finish signing in on the page that opened.', tone: 'attention' };
    case 'waiting-input':
      return { headline: inputWords[view.kind], detail: null, tone: 'attention' };
    case 'connected':
      return {
        headline: `Connected since ${clockTime(view.since)}`,
        detail: view.sessionEndsAt
          ? `The server ends this session at ${clockTime(view.sessionEndsAt)}.`
          : view.server
            ? `Through ${view.server}`
            : null,
        tone: 'good',
      };
    case 'reconnecting':
      return { headline: 'Reconnecting…', detail: view.reason ?? 'The connection to the server was lost; trying again.', tone: 'busy' };
    case 'disconnecting':
      return { headline: 'Disconnecting…', detail: null, tone: 'busy' };
    case 'failed':
      return {
        headline: `Failed: ${lowerFirst(view.message)}`,
        detail: view.serverMessage ? `The server said: “${view.serverMessage}” ${view.nextStep}` : view.nextStep,
        tone: 'bad',
      };
  }
}

function lowerFirst(s: string): string {
  return s && /^[A-Z][a-z]/.test(s) ? s[0]!.toLowerCase() + s.slice(1) : s;
}

/** Whether the one button on a profile should connect (or disconnect). */
export function offersConnect(view: ConnectionView): boolean {
  return view.phase === 'idle' || view.phase === 'failed';
}

export const authWords: Record<AuthKind, string> = {
  certificate: 'Certificate',
  password: 'Username and password',
  'certificate+password': 'Certificate and password',
  'static-challenge': 'Password and MFA code',
  'aws-saml': 'Single sign-on in your browser (AWS)',
  none: 'None',
};

export function expiryWords(status: ExpiryStatus, notAfter: string): string {
  switch (status) {
    case 'valid':
      return `Valid until ${calendarDate(notAfter)}`;
    case 'expiring-soon':
      return `Expires soon, on ${calendarDate(notAfter)}`;
    case 'expired':
      return `Expired on ${calendarDate(notAfter)}: ask your administrator for a new one`;
    case 'not-yet-valid':
      return 'Not valid yet: check your computer’s date and time';
  }
}
