import { describe, expect, it } from 'vitest';
import { checkOpenableUrl } from './browser.js';
import { webAuthUrl } from './pending-auth.js';

describe('webAuthUrl', () => {
  it('takes the URL from WEB_AUTH (with or without flags), OPEN_URL or a bare URL', () => {
    expect(webAuthUrl('WEB_AUTH::https://sso.example.com/auth?state=a:b')).toBe('https://sso.example.com/auth?state=a:b');
    expect(webAuthUrl('WEB_AUTH:external,hidden:https://a.example/y')).toBe('https://a.example/y');
    expect(webAuthUrl('OPEN_URL:https://a.example/x')).toBe('https://a.example/x');
    expect(webAuthUrl(' http://127.0.0.1:8080/z ')).toBe('http://127.0.0.1:8080/z');
  });

  it('leaves refusing unsafe targets to checkOpenableUrl', () => {
    expect(() => checkOpenableUrl(webAuthUrl('WEB_AUTH::file:///etc/passwd'))).toThrow(/file:/);
    expect(() => checkOpenableUrl(webAuthUrl('OPEN_URL:http://sso.example.com/'))).toThrow(/only https/);
  });
});
