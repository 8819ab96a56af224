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

  it('leaves ordinary log lines alone', () => {
    expect(new Redactor().redact('Using key method 2; response received')).toBe('Using key method 2; response received');
    const line = 'Peer Connection Initiated with [AF_INET]192.0.2.10:1194; pushed route 10.20.0.0/16 via 10.8.0.1';
    expect(new Redactor().redact(line)).toBe(line);
  });
});
