import { describe, expect, it } from 'vitest';
import { checkOpenableUrl, safeOpener, UnsafeUrlError } from './browser.js';

describe('checkOpenableUrl', () => {
  it.each([
    'https://idp.example.com/saml2?SAMLRequest=abc',
    'http://127.0.0.1:8089/sso',
    'http://127.12.0.3/x',
    'http://[::1]:9000/cb',
    'http://localhost:3000/',
  ])('allows %s', (url) => {
    expect(checkOpenableUrl(url).href).toBe(new URL(url).href);
  });

  it.each([
    ['http://idp.example.com/login', /http:\/\/idp\.example\.com/],
    ['file:///etc/passwd', /file:/],
    ['javascript:alert(1)', /javascript:/],
    ['http://10.0.0.1/', /http:\/\/10\.0\.0\.1/],
    ['not a url', /not a web address/],
  ])('refuses %s', (url, reason) => {
    expect(() => checkOpenableUrl(url)).toThrow(UnsafeUrlError);
    expect(() => checkOpenableUrl(url)).toThrow(reason);
  });

  it('safeOpener never hands a refused URL to the browser', async () => {
    const opened: string[] = [];
    const opener = safeOpener({ open: async (u) => void opened.push(u) });
    await expect(opener.open('http://evil.example/')).rejects.toThrow(UnsafeUrlError);
    await opener.open('https://ok.example/');
    expect(opened).toEqual(['https://ok.example/']);
  });
});
