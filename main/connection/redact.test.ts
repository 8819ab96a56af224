import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { Redactor } from './redact.js';

describe('Redactor', () => {
  it('removes every secret value it was told about, including short passwords', () => {
    const r = new Redactor();
    r.add('pw1!');
    r.add('correct horse battery staple');
    const out = r.redact('user alice sent pw1! and later correct horse battery staple');
    expect(out).not.toContain('pw1!');
    expect(out).not.toContain('horse');
    expect(out).toContain('alice');
  });

  it('removes each line of a registered PEM key even when it shows up piecemeal', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const r = new Redactor();
    r.add(pem);
    const line = pem.split('\n')[3]!;
    expect(r.redact(`fragment ${line} end`)).toBe('fragment [redacted] end');
  });

  it('removes things that look like secrets without being told', () => {
    const r = new Redactor();
    const saml = 'PHNhbWxwOlJlc3BvbnNlIHhtbG5zOnNhbWxwPSJ1cm46b2FzaXM6bmFtZXM6dGM6U0FNTDoyLjA6cHJvdG9jb2wiIElEPSJfMTIzIj4='.repeat(2);
    const cases = [
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----',
      'password=hunter2',
      'Password: "hunter 2"',
      'auth-token abcdef123456',
      `CRV1::state-id::${saml}`,
      'SCRV1:aHVudGVyMg==:MTIzNDU2',
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ',
    ];
    for (const c of cases) {
      const out = r.redact(`before ${c} after`);
      expect(out, c).toContain('[redacted]');
      expect(out, c).not.toMatch(/hunter|MIIEvQ|abcdef123456|PHNhbWxw|c2lnbmF0dXJl/);
      expect(out, c).toMatch(/^before .* after$/);
    }
  });

  describe('finds each kind of secret without being told', () => {
    const staticKey = ['#', '# 2048 bit OpenVPN static key', '#', '-----BEGIN OpenVPN Static key V1-----', ...Array.from({ length: 16 }, (_, i) => `${i.toString(16).padStart(2, '0')}a1b2c3d4e5f60718293a4b5c6d7e8f9`), '-----END OpenVPN Static key V1-----'].join('\n');
    const v2 = '-----BEGIN OpenVPN tls-crypt-v2 client key-----\nQnJvd25Gb3hKdW1wc092ZXJUaGVMYXp5RG9nQnJvd25Gb3hKdW1wc092ZXJUaGVM\n-----END OpenVPN tls-crypt-v2 client key-----';
    const base64 = Buffer.from('a SAML response or a client key, long enough to be a secret by its shape alone '.repeat(2)).toString('base64');
    const cases: [string, string, RegExp][] = [
      ['an OpenVPN static-key block', staticKey, /a1b2c3d4e5f6/],
      ['a tls-crypt-v2 client key block', v2, /QnJvd25Gb3g/],
      ['JSON "password"', '{"username":"alice","password":"hun\\"ter2-json"}', /hun|ter2-json/],
      ['JSON "refresh_token" and "access_token"', '{"access_token":"at-0123456789","refresh_token":"rt-9876543210"}', /at-0123|rt-9876/],
      ['refresh_token= in a form body', 'grant_type=refresh_token&refresh_token=rt-abcdef123456&client_id=causeway', /rt-abcdef/],
      ['access_token= in a query', 'GET /userinfo?access_token=at-abcdef123456 HTTP/1.1', /at-abcdef/],
      ['a Bearer token', 'Authorization: Bearer opaque.token-value_123456', /opaque|value_123456/],
      ['HTTP Basic credentials', 'Proxy-Authorization: Basic YWxpY2U6aHVudGVyMg==', /YWxpY2U6/],
      ['password <value>', 'management: password "Auth" s3cr3t-value', /s3cr3t/],
      ['password <value> unquoted', 'sent password hunter2-plain to the server', /hunter2-plain/],
      ['URL-encoded base64', `SAMLResponse=${encodeURIComponent(base64)}`, /YSBTQU1M|IHJlc3Bv/],
    ];
    it.each(cases)('%s', (_name, secret, leaked) => {
      const out = new Redactor().redact(`before ${secret} after`);
      expect(out).toContain('[redacted]');
      expect(out).not.toMatch(leaked);
      expect(out).toMatch(/^before [\s\S]* after$/);
    });
  });

  it('leaves ordinary log lines alone', () => {
    for (const line of ['password saved in the file keyring', 'the server rejected the password for alice', 'Basic auth']) {
      expect(new Redactor().redact(line)).toBe(line);
    }
    expect(new Redactor().redact('Using key method 2; response received')).toBe('Using key method 2; response received');
    const line = 'Peer Connection Initiated with [AF_INET]192.0.2.10:1194; pushed route 10.20.0.0/16 via 10.8.0.1';
    expect(new Redactor().redact(line)).toBe(line);
  });
});
