// Property: whatever bytes arrive, the parser either returns directives or throws its own
// ProfileError, and checkProfile (parser + policy) never throws; neither hangs.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProfileError } from './errors.js';
import { checkProfile, parseOvpn } from './index.js';

const pieces = [
  'client', 'remote', 'proto', 'ca', 'cert', 'key', 'tls-auth', 'route', 'dhcp-option', 'setenv', 'opt',
  'static-challenge', 'connection', 'auth-user-pass', 'data-ciphers', 'none', 'up', '--', '<ca>', '</ca>',
  '<connection>', '</connection>', '<key>', '</key>', '<tls-auth>', '</tls-auth>', '[inline]', '"', "'", '\\',
  '#', ';', ' ', '\t', '\n', '\r\n', '\r', '1', '443', 'udp', 'tcp', '10.0.0.0', '255.255.0.0', '::', '/',
  '-----BEGIN CERTIFICATE-----', '-----END CERTIFICATE-----', '\uFEFF', 'é', '\u0000',
];

const profileLike = fc.array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 8 })), { maxLength: 200 }).map((a) => a.join(''));
const bytes = fc.uint8Array({ maxLength: 2000 });

function expectOnlyProfileError(input: Uint8Array | string): void {
  const started = performance.now();
  try {
    parseOvpn(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ProfileError);
  }
  expect(() => checkProfile(input, { readReference: () => { throw new ProfileError('no files here'); } })).not.toThrow();
  expect(performance.now() - started).toBeLessThan(2000);
}

describe('parser robustness (fast-check)', () => {
  it('profile-shaped text: only ProfileError, never a hang', () => {
    fc.assert(fc.property(profileLike, (text) => expectOnlyProfileError(text)), { numRuns: 3000 });
  });

  it('the same text as bytes', () => {
    fc.assert(fc.property(profileLike, (text) => expectOnlyProfileError(new TextEncoder().encode(text))), { numRuns: 1000 });
  });

  it('arbitrary bytes', () => {
    fc.assert(fc.property(bytes, (b) => expectOnlyProfileError(b)), { numRuns: 2000 });
  });

  it('a long line of quotes and backslashes stays linear', () => {
    const started = performance.now();
    expectOnlyProfileError(`x ${'\\"'.repeat(200_000)}`);
    expectOnlyProfileError('<ca>\n'.repeat(50_000));
    expectOnlyProfileError(`remote ${'a'.repeat(7 * 1024 * 1024)}`);
    expectOnlyProfileError(`${' '.repeat(7 * 1024 * 1024)}client`);
    expect(performance.now() - started).toBeLessThan(6000);
  });
});
