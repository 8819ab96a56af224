import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOpenableUrl, safeOpener, systemBrowserOpener, UnsafeUrlError } from './browser.js';

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

describe('systemBrowserOpener', () => {
  it('runs $BROWSER with the URL (placeholder or appended), detached', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'causeway-browser-'));
    const script = join(dir, 'browser.sh');
    writeFileSync(script, `#!/bin/sh\nprintf '%s|%s' "$1" "$2" > ${dir}/opened\n`, { mode: 0o755 });
    // The shell creates the file before printf fills it: wait for content, not for the file.
    const read = async () => {
      for (let i = 0; i < 250; i++) {
        try {
          const text = readFileSync(join(dir, 'opened'), 'utf8');
          if (text) return text;
        } catch {
          // not there yet
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      return '';
    };
    await systemBrowserOpener('linux', { BROWSER: `${script}:firefox` }).open('https://a.example/?x=1&y=2');
    expect(await read()).toBe('https://a.example/?x=1&y=2|');
    rmSync(join(dir, 'opened'));
    await systemBrowserOpener('linux', { BROWSER: `${script} --new-tab=%s extra` }).open('https://b.example/');
    expect(await read()).toBe('--new-tab=https://b.example/|extra');
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a browser command that cannot start', async () => {
    await expect(systemBrowserOpener('linux', { BROWSER: '/nonexistent/browser' }).open('https://a.example/')).rejects.toThrow(
      /Could not start the browser/,
    );
  });
});
