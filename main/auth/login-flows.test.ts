import { describe, expect, it } from 'vitest';
import type { Profile } from '../../app/profile/model.js';
import type { LoginContext } from '../connection/login-hooks.js';
import { createLoginFlows, signInTimeoutMs } from './login-flows.js';

function context(auth: Profile['auth']['kind'], extra: Partial<Profile> = {}): LoginContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    profile: { id: 'p1', name: 'P', auth: { kind: auth }, ...extra } as Profile,
    sessionId: 's1',
    secrets: { backend: 'memory', persistent: false, reason: 'test', get: async () => null, set: async () => undefined, delete: async () => undefined },
    signal: new AbortController().signal,
    addSecret: () => undefined,
    log: (t) => void lines.push(t),
    lines,
  };
}

describe('createLoginFlows', () => {
  const opened: string[] = [];
  const flows = createLoginFlows({ opener: { open: async (u) => void opened.push(u) } });

  it('starts AWS SAML profiles with the ACS first leg and leaves other profiles alone', async () => {
    expect(await flows.credentialsBeforeConnect!(context('aws-saml'))).toEqual({ username: 'N/A', password: 'ACS::35001' });
    expect(await flows.credentialsBeforeConnect!(context('password'))).toBeNull();
    expect(await flows.answerCrv1!(context('password'), { text: 'Enter PIN', username: 'bob' })).toBeNull();
  });

  it('opens web-auth URLs only when safe, and says it waits', async () => {
    const ctx = context('certificate');
    await flows.openAuthUrl!(ctx, 'https://sso.example.com/x', 90);
    expect(opened).toEqual(['https://sso.example.com/x']);
    expect(ctx.lines).toEqual(['waiting for the browser sign-in at sso.example.com (the server waits 90 s)']);
    await expect(flows.openAuthUrl!(ctx, 'http://sso.example.com/x', 90)).rejects.toThrow(/only https/);
    expect(opened).toHaveLength(1);
  });
});

describe('signInTimeoutMs', () => {
  it('reads CAUSEWAY_SIGNIN_TIMEOUT_SEC within bounds, else five minutes', () => {
    expect(signInTimeoutMs({ CAUSEWAY_SIGNIN_TIMEOUT_SEC: '20' })).toBe(20_000);
    expect(signInTimeoutMs({})).toBe(300_000);
    expect(signInTimeoutMs({ CAUSEWAY_SIGNIN_TIMEOUT_SEC: '2' })).toBe(300_000);
    expect(signInTimeoutMs({ CAUSEWAY_SIGNIN_TIMEOUT_SEC: 'soon' })).toBe(300_000);
  });
});
