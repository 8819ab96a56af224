import { describe, expect, it } from 'vitest';
import { transition, type ConnectionEvent, type ConnectionPhase, type ConnectionState } from './state.js';
import { describeState, FAILURE_MESSAGES } from './messages.js';
import type { ErrorCode, SessionPhase } from '../helper-protocol/messages.js';

const remote = { host: 'vpn.example.test', address: '192.0.2.10', port: 1194, proto: 'udp' as const };
const helper = (
  phase: SessionPhase,
  error: { code: ErrorCode; message: string } | null = null,
): ConnectionEvent => ({ type: 'helper-state', phase, remote, error, at: 1000 });

function run(events: ConnectionEvent[], from: ConnectionState = { phase: 'idle' }): ConnectionState {
  return events.reduce<ConnectionState>((s, e) => {
    const next = transition(s, e);
    if (!next) throw new Error(`illegal: ${JSON.stringify(e)} in ${s.phase}`);
    return next;
  }, from);
}

describe('connection state machine', () => {
  it('walks a certificate connection from idle to connected and back to idle', () => {
    const s = run([{ type: 'connect' }, helper('resolving'), helper('connecting'), helper('authenticating'), helper('connected')]);
    expect(s).toEqual({ phase: 'connected', remote, since: 1000 });
    expect(run([{ type: 'disconnect' }, helper('disconnecting'), helper('disconnected')], s)).toEqual({ phase: 'idle' });
  });

  it('tracks what an authenticating session waits for', () => {
    let s = run([{ type: 'connect' }, helper('connecting'), { type: 'prompt', waiting: 'credentials' }]);
    expect(s).toMatchObject({ phase: 'authenticating', waiting: 'credentials', remote });
    s = run([{ type: 'answered' }], s);
    expect(s).toMatchObject({ phase: 'authenticating', waiting: 'server' });
    s = run([{ type: 'prompt', waiting: 'challenge' }, { type: 'answered' }, { type: 'prompt', waiting: 'browser' }], s);
    expect(describeState(s)).toBe('waiting for you to sign in in the browser');
    expect(transition({ phase: 'authenticating', waiting: 'server', remote }, { type: 'answered' })).toBeNull();
  });

  it('keeps showing "reconnecting" until the tunnel is back, counting attempts', () => {
    const connected = run([{ type: 'connect' }, helper('connected')]);
    let s = run([helper('reconnecting', { code: 'server-unreachable', message: 'ping timeout' })], connected);
    expect(s).toEqual({ phase: 'reconnecting', attempt: 1, cause: 'ping timeout' });
    s = run([helper('resolving'), helper('connecting'), helper('authenticating'), helper('reconnecting')], s);
    expect(s).toMatchObject({ phase: 'reconnecting', attempt: 2 });
    expect(run([helper('connected')], s).phase).toBe('connected');
  });

  it('fails with the reason that matches the helper error, and a message with a next step', () => {
    const s = run([{ type: 'connect' }, helper('authenticating'), helper('failed', { code: 'auth-failed', message: 'AUTH_FAILED' })]);
    expect(s).toEqual({ phase: 'failed', reason: 'bad-credentials', detail: 'AUTH_FAILED' });
    expect(describeState(s)).toMatch(/rejected your credentials.*connect again/i);
    expect(run([{ type: 'dismiss' }], s)).toEqual({ phase: 'idle' });
    expect(run([{ type: 'connect' }], s)).toEqual({ phase: 'resolving' });
  });

  it('ends a disconnect in idle even when the helper dies meanwhile, and ignores late progress', () => {
    const s = run([{ type: 'connect' }, helper('connected'), { type: 'disconnect' }]);
    expect(transition(s, helper('connected'))).toBeNull();
    expect(transition(s, { type: 'prompt', waiting: 'credentials' })).toBeNull();
    expect(run([{ type: 'fail', reason: 'helper-unavailable', detail: null }], s)).toEqual({ phase: 'idle' });
  });

  it('refuses events that make no sense', () => {
    const idle: ConnectionState = { phase: 'idle' };
    expect(transition(idle, helper('connected'))).toBeNull(); // stale message for an ended session
    expect(transition(idle, { type: 'disconnect' })).toBeNull();
    expect(transition(idle, { type: 'dismiss' })).toBeNull();
    expect(transition({ phase: 'resolving' }, { type: 'connect' })).toBeNull();
    expect(transition({ phase: 'connected', remote, since: 0 }, { type: 'prompt', waiting: 'credentials' })).toBeNull();
    expect(transition({ phase: 'connected', remote, since: 0 }, helper('connecting'))).toBeNull();
  });

  // Exhaustive: every (state, event) pair lands on an edge of the documented graph or is refused.
  it('only ever takes the documented edges', () => {
    const allowed: Record<ConnectionPhase, ConnectionPhase[]> = {
      idle: ['resolving'],
      resolving: ['resolving', 'connecting', 'authenticating', 'connected', 'reconnecting', 'disconnecting', 'idle', 'failed'],
      connecting: ['resolving', 'connecting', 'authenticating', 'connected', 'reconnecting', 'disconnecting', 'idle', 'failed'],
      authenticating: ['resolving', 'connecting', 'authenticating', 'connected', 'reconnecting', 'disconnecting', 'idle', 'failed'],
      connected: ['connected', 'reconnecting', 'disconnecting', 'idle', 'failed'],
      reconnecting: ['reconnecting', 'authenticating', 'connected', 'disconnecting', 'idle', 'failed'],
      disconnecting: ['disconnecting', 'idle'],
      failed: ['idle', 'resolving'],
    };
    const states: ConnectionState[] = [
      { phase: 'idle' },
      { phase: 'resolving' },
      { phase: 'connecting', remote },
      { phase: 'authenticating', waiting: 'server', remote },
      { phase: 'authenticating', waiting: 'credentials', remote: null },
      { phase: 'connected', remote, since: 0 },
      { phase: 'reconnecting', attempt: 3, cause: null },
      { phase: 'disconnecting' },
      { phase: 'failed', reason: 'internal', detail: null },
    ];
    const phases: SessionPhase[] = ['resolving', 'connecting', 'authenticating', 'connected', 'reconnecting', 'disconnecting', 'disconnected', 'failed'];
    const events: ConnectionEvent[] = [
      { type: 'connect' },
      ...phases.map((p) => helper(p, p === 'failed' ? { code: 'halted', message: 'x' } : null)),
      { type: 'prompt', waiting: 'credentials' },
      { type: 'prompt', waiting: 'challenge' },
      { type: 'prompt', waiting: 'browser' },
      { type: 'answered' },
      { type: 'disconnect' },
      { type: 'fail', reason: 'prompt-timeout', detail: null },
      { type: 'dismiss' },
    ];
    let taken = 0;
    for (const s of states) {
      for (const e of events) {
        const next = transition(s, e);
        if (next === null) continue;
        taken++;
        expect(allowed[s.phase], `${s.phase} --${e.type}${'phase' in e ? `:${e.phase}` : ''}--> ${next.phase}`).toContain(next.phase);
      }
    }
    expect(taken).toBeGreaterThan(40);
  });

  it('has a title and a next step for every failure reason', () => {
    for (const [reason, m] of Object.entries(FAILURE_MESSAGES)) {
      expect(m.title, reason).not.toBe('');
      expect(m.nextStep, reason).toMatch(/\.$/);
    }
  });
});
