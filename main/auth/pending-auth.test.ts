import { describe, expect, it } from 'vitest';
import { crTextQuestion, handlePendingAuth, PendingAuthError, webAuthUrl, type PendingAuthStatus } from './pending-auth.js';

function deps(answer = '123456') {
  const opened: string[] = [];
  const asked: { text: string; echo: boolean; timeoutSec: number }[] = [];
  const statuses: PendingAuthStatus[] = [];
  return {
    opened,
    asked,
    statuses,
    deps: {
      opener: { open: async (u: string) => void opened.push(u) },
      prompt: async (r: { text: string; echo: boolean; timeoutSec: number }) => {
        asked.push(r);
        return answer;
      },
      status: (s: PendingAuthStatus) => statuses.push(s),
    },
  };
}

describe('handlePendingAuth', () => {
  it('opens WEB_AUTH URLs and reports the wait with the server timeout', async () => {
    const d = deps();
    const r = await handlePendingAuth(
      { method: 'webauth', payload: 'WEB_AUTH::https://sso.example.com/auth?state=a:b', echo: false, timeoutSec: 120 },
      d.deps,
    );
    expect(r).toBeNull();
    expect(d.opened).toEqual(['https://sso.example.com/auth?state=a:b']);
    expect(d.statuses).toEqual([{ kind: 'waiting-for-browser', host: 'sso.example.com', timeoutSec: 120 }]);
  });

  it('accepts OPEN_URL and bare URLs, and flags such as external', async () => {
    expect(webAuthUrl('OPEN_URL:https://a.example/x')).toBe('https://a.example/x');
    expect(webAuthUrl('WEB_AUTH:external,hidden:https://a.example/y')).toBe('https://a.example/y');
    expect(webAuthUrl('http://127.0.0.1:8080/z')).toBe('http://127.0.0.1:8080/z');
  });

  it('refuses plain http to another machine and other schemes', async () => {
    const d = deps();
    await expect(
      handlePendingAuth({ method: 'openurl', payload: 'http://sso.example.com/', echo: false, timeoutSec: 60 }, d.deps),
    ).rejects.toThrow(PendingAuthError);
    await expect(
      handlePendingAuth({ method: 'webauth', payload: 'WEB_AUTH::file:///etc/passwd', echo: false, timeoutSec: 60 }, d.deps),
    ).rejects.toThrow(/will not open/);
    expect(d.opened).toEqual([]);
  });

  it('asks the CR_TEXT question and returns the answer for cr-response', async () => {
    const d = deps('654321');
    const r = await handlePendingAuth(
      { method: 'crtext', payload: 'CR_TEXT:R,E:Enter your 6-digit TOTP', echo: true, timeoutSec: 90 },
      d.deps,
    );
    expect(r).toEqual({ crResponse: '654321' });
    expect(d.asked).toEqual([{ text: 'Enter your 6-digit TOTP', echo: true, timeoutSec: 90 }]);
    expect(crTextQuestion('What: now?')).toBe('What: now?');
  });
});
