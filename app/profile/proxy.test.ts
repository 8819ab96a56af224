import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProfileError } from './errors.js';
import { checkProfile } from './index.js';

const CA = `<ca>\n${readFileSync(new URL('../../test/corpus/pki/ca.crt', import.meta.url), 'utf8')}</ca>\n`;
const TCP = `client\nproto tcp\nremote vpn.example.com 443\nauth-user-pass\n${CA}`;
const messages = (issues: { message: string }[]) => issues.map((i) => i.message).join('\n');

function check(text: string, files: Record<string, string> = {}) {
  return checkProfile(text, {
    readReference: (path) => {
      const f = files[path];
      if (f === undefined) throw new ProfileError(`the file "${path}" does not exist`);
      return f;
    },
  });
}

describe('checkProfile: proxies', () => {
  it('keeps an http-proxy without authentication and its options', () => {
    const v = check(`${TCP}http-proxy proxy.corp.example 8080\nhttp-proxy-option VERSION 1.1\nhttp-proxy-option AGENT "Mozilla/5.0 (X11)"\nhttp-proxy-option CUSTOM-HEADER X-Tenant "a b"\nhttp-proxy-retry\n`);
    expect(v.errors).toEqual([]);
    expect(v.settings!.proxy).toEqual({
      kind: 'http',
      host: 'proxy.corp.example',
      port: 8080,
      hasCredentials: false,
      askCredentials: false,
      httpVersion: '1.1',
      userAgent: 'Mozilla/5.0 (X11)',
      customHeaders: [{ name: 'X-Tenant', value: 'a b' }],
    });
    expect(v.secrets.proxyCredentials).toBeNull();
    expect(messages(v.warnings)).toContain('http-proxy-retry was removed');
  });

  it('reads Basic credentials from an auth file next to the profile, as a secret', () => {
    const v = check(`${TCP}http-proxy 192.0.2.8 3128 proxy-auth.txt basic\n`, { 'proxy-auth.txt': 'carol\r\nhunter2 with spaces\r\n' });
    expect(v.errors).toEqual([]);
    expect(v.settings!.proxy).toMatchObject({ kind: 'http', hasCredentials: true, httpVersion: '1.0' });
    expect(v.secrets.proxyCredentials).toEqual({ username: 'carol', password: 'hunter2 with spaces' });
    expect(JSON.stringify(v.settings)).not.toContain('hunter2');
  });

  it('takes the <http-proxy-user-pass> block for auto, wherever it is, and asks when connecting without one', () => {
    const v = check(`<http-proxy-user-pass>\ndave\npw\n</http-proxy-user-pass>\n${TCP}http-proxy 192.0.2.8 3128 auto-nct\n`);
    expect(v.errors).toEqual([]);
    expect(v.secrets.proxyCredentials).toEqual({ username: 'dave', password: 'pw' });
    expect(v.settings!.proxy).toMatchObject({ hasCredentials: true, askCredentials: false });
    for (const line of ['http-proxy 192.0.2.8 3128 auto', 'http-proxy 192.0.2.8 3128 stdin basic', 'socks-proxy 192.0.2.9 1080 stdin']) {
      const ask = check(`${TCP}${line}\n`);
      expect(ask.errors, line).toEqual([]);
      expect(ask.settings!.proxy, line).toMatchObject({ hasCredentials: false, askCredentials: true });
      expect(ask.secrets.proxyCredentials, line).toBeNull();
    }
    expect(messages(check(`${TCP}http-proxy 192.0.2.8 3128 [inline]\n`).errors)).toMatch(/says \[inline\] but there is no <http-proxy-user-pass> block/);
    // The file form of http-proxy-user-pass is never read, wherever it points: auto then asks.
    const fileForm = check(`${TCP}http-proxy 192.0.2.8 3128 auto\nhttp-proxy-user-pass creds.txt\n`, { 'creds.txt': 'u\np\n' });
    expect(messages(fileForm.warnings)).toMatch(/http-proxy-user-pass was removed: it reads a file/);
    expect(fileForm.secrets.proxyCredentials).toBeNull();
    expect(fileForm.settings!.proxy).toMatchObject({ askCredentials: true });
  });

  it('refuses NTLM and unknown methods, a bad auth file, and two different proxies', () => {
    expect(messages(check(`${TCP}http-proxy 192.0.2.8 3128 auth.txt ntlm\n`, { 'auth.txt': 'u\np\n' }).errors)).toMatch(/NTLM proxy authentication is not supported \(only Basic is\)/);
    expect(messages(check(`${TCP}http-proxy 192.0.2.8 3128 auth.txt digest\n`, { 'auth.txt': 'u\np\n' }).errors)).toMatch(/"digest" is not supported/);
    expect(messages(check(`${TCP}http-proxy 192.0.2.8 3128 auth.txt\n`, { 'auth.txt': 'only-a-user\n' }).errors)).toMatch(/must hold two lines/);
    expect(messages(check(`${TCP}http-proxy 192.0.2.8 3128 missing.txt\n`).errors)).toMatch(/does not exist/);
    expect(messages(check(`${TCP}http-proxy 192.0.2.8 3128\nsocks-proxy 192.0.2.9 1080\n`).errors)).toMatch(/only one proxy per profile/);
  });

  it('refuses headers that break or replace the request', () => {
    expect(messages(check(`${TCP}http-proxy 192.0.2.8 3128\nhttp-proxy-option CUSTOM-HEADER "Bad Name" x\n`).errors)).toMatch(/header name/);
    expect(messages(check(`${TCP}http-proxy 192.0.2.8 3128\nhttp-proxy-option CUSTOM-HEADER Proxy-Authorization x\n`).errors)).toMatch(/replace a header/);
    expect(messages(check(`${TCP}http-proxy 192.0.2.8 3128\nhttp-proxy-option VERSION 2\n`).errors)).toMatch(/1\.0 or 1\.1/);
  });

  it('keeps a socks-proxy with username/password from its auth file', () => {
    const v = check(`${TCP}socks-proxy 192.0.2.9 1081 socks.txt\n`, { 'socks.txt': 'erin\nsecret\n' });
    expect(v.errors).toEqual([]);
    expect(v.settings!.proxy).toMatchObject({ kind: 'socks5', host: '192.0.2.9', port: 1081, hasCredentials: true });
    expect(v.secrets.proxyCredentials).toEqual({ username: 'erin', password: 'secret' });
    expect(check(`${TCP}socks-proxy 192.0.2.9\n`).settings!.proxy).toMatchObject({ port: 1080, hasCredentials: false });
  });

  it('keeps UDP remotes behind a SOCKS proxy (UDP ASSOCIATE)', () => {
    const udp = check(`client\nremote vpn.example.com 1194 udp\nremote b.example.com 443 tcp\nauth-user-pass\n${CA}socks-proxy 192.0.2.9 1080\n`);
    expect(udp.errors).toEqual([]);
    expect(messages(udp.warnings)).not.toMatch(/left out/);
    expect(udp.settings!.remotes.map((r) => r.proto)).toEqual(['udp', 'tcp']);
  });

  it('refuses a UDP-only profile behind an HTTP proxy, and leaves out the UDP remotes of a mixed one', () => {
    const udp = check(`client\nremote vpn.example.com 1194 udp\nauth-user-pass\n${CA}http-proxy 192.0.2.8 3128\n`);
    expect(udp.ok).toBe(false);
    expect(messages(udp.errors)).toMatch(/every remote of this profile is UDP, and an HTTP proxy carries TCP only/);
    const mixed = check(`client\nremote a.example.com 1194 udp\nremote b.example.com 443 tcp\nauth-user-pass\n${CA}http-proxy 192.0.2.8 3128\n`);
    expect(mixed.errors).toEqual([]);
    expect(mixed.settings!.remotes).toEqual([{ host: 'b.example.com', port: 443, proto: 'tcp', family: 'any' }]);
    expect(messages(mixed.warnings)).toContain('remote a.example.com 1194 udp is left out: an HTTP proxy carries TCP only');
  });

  it('warns about proxy options and credentials that nothing uses, without echoing the password', () => {
    const v = check(`${TCP}http-proxy-option VERSION 1.1\n<http-proxy-user-pass>\nfrank\ntop-secret\n</http-proxy-user-pass>\n`);
    expect(v.errors).toEqual([]);
    expect(v.settings!.proxy).toBeNull();
    expect(v.secrets.proxyCredentials).toBeNull();
    expect(messages(v.warnings)).toMatch(/http-proxy-option is ignored: the profile has no http-proxy/);
    expect(messages(v.warnings)).toMatch(/<http-proxy-user-pass> block is ignored/);
    expect(JSON.stringify(v)).not.toContain('top-secret');
  });
});
