import { bytes, clockTime, describeConnection, duration, offersConnect } from './format';
import type { ConnectionView } from '../../app/ipc/types';

describe('describeConnection', () => {
  const since = new Date(2026, 10, 22, 10, 42).toISOString();
  it.each<[ConnectionView, string, string | null]>([
    [{ phase: 'idle' }, 'Not connected', null],
    [{ phase: 'connecting', step: 'resolving', server: null }, 'Connecting…', 'Looking up the server'],
    [{ phase: 'connecting', step: 'connecting', server: 'vpn.example.com' }, 'Connecting…', 'Reaching vpn.example.com'],
    [{ phase: 'connecting', step: 'authenticating', server: null }, 'Connecting…', 'Checking your credentials'],
    [{ phase: 'waiting-browser', canReopen: true }, 'Waiting for you to log in in your browser', 'Finish signing in on the page that opened.'],
    [{ phase: 'waiting-input', promptId: 'q', kind: 'mfa' }, 'Enter your MFA code', null],
    [{ phase: 'waiting-input', promptId: 'q', kind: 'password' }, 'Enter your username and password', null],
    [{ phase: 'connected', since, server: null, ipv4: '10.8.0.2', ipv6: null, dnsServers: [], sessionEndsAt: null }, 'Connected since 10:42', null],
    [{ phase: 'reconnecting', reason: 'The network changed.' }, 'Reconnecting…', 'The network changed.'],
    [{ phase: 'reconnecting', reason: null }, 'Reconnecting…', 'The connection to the server was lost; trying again.'],
    [{ phase: 'disconnecting' }, 'Disconnecting…', null],
    [
      { phase: 'failed', code: 'auth-failed', message: 'The server rejected your password.', nextStep: 'Check your password and try again.', serverMessage: null },
      'Failed: the server rejected your password.',
      'Check your password and try again.',
    ],
    [
      { phase: 'failed', code: 'bad-credentials', message: 'The server rejected your credentials.', nextStep: 'Ask your administrator.', serverMessage: 'Your account is not allowed to use this VPN.' },
      'Failed: the server rejected your credentials.',
      'The server said: “Your account is not allowed to use this VPN.” Ask your administrator.',
    ],
  ])('%j reads "%s"', (view, headline, detail) => {
    expect(describeConnection(view)).toMatchObject({ headline, detail });
  });

  it('mentions when the server ends the session', () => {
    const ends = new Date(2026, 10, 22, 18, 42).toISOString();
    const w = describeConnection({ phase: 'connected', since, server: null, ipv4: null, ipv6: null, dnsServers: [], sessionEndsAt: ends });
    expect(w.detail).toBe('The server ends this session at 18:42.');
  });

  it('offers Connect only when idle or failed', () => {
    expect(offersConnect({ phase: 'idle' })).toBe(true);
    expect(offersConnect({ phase: 'failed', code: 'x', message: 'm', nextStep: 'n', serverMessage: null })).toBe(true);
    expect(offersConnect({ phase: 'reconnecting', reason: null })).toBe(false);
  });
});

describe('numbers', () => {
  it('formats durations', () => {
    expect(duration(42_000)).toBe('42 s');
    expect(duration(185_000)).toBe('3 min 05 s');
    expect(duration(7_620_000)).toBe('2 h 07 min');
    expect(duration(-5)).toBe('0 s');
  });
  it('formats bytes', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1_500)).toBe('1.5 KB');
    expect(bytes(23_400_000)).toBe('23 MB');
  });
  it('formats clock times on a 24-hour clock', () => {
    expect(clockTime(new Date(2026, 0, 1, 9, 5).toISOString())).toBe('09:05');
  });
});
