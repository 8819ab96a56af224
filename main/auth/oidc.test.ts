// OIDC flows against a real OpenID provider (oidc-provider on 127.0.0.1), driven by a
// browserless user; the end-to-end suite does the same with Chromium and a VPN server.
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInOverHttp } from '../../test/peers/oidc-idp/http-user.js';
import { startOidcProvider, TEST_CLIENT_ID, type TestOidcProvider } from '../../test/peers/oidc-idp/provider.js';
import { recordSecret } from '../../test/peers/sso-common/record-secret.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { BrowserOpener } from './browser.js';
import { OidcLogin, OidcLoginError, type OidcStatus } from './oidc.js';
import { parseOidcSettings, refreshTokenAccount, type OidcSettings } from './oidc-settings.js';

/** In-memory SecretStore fake (unit test only). */
function memorySecrets(): SecretStore & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    backend: 'memory',
    persistent: false,
    reason: 'unit test',
    values,
    get: async (a) => values.get(a) ?? null,
    set: async (a, s) => void values.set(a, s),
    delete: async (a) => void values.delete(a),
  };
}

/** A browser that signs in as `login`, after optionally tampering with the authorization URL. */
function httpBrowser(login: string, tamper: (u: URL) => void = () => undefined): BrowserOpener & { opened: string[] } {
  const opened: string[] = [];
  return {
    opened,
    async open(url) {
      opened.push(url);
      const u = new URL(url);
      tamper(u);
      // Not awaited: like a real browser, the user acts after open() returns.
      void signInOverHttp(u.href, login).catch(() => undefined);
    },
  };
}

let idp: TestOidcProvider;
let settings: OidcSettings;
beforeAll(async () => {
  idp = await startOidcProvider();
  settings = parseOidcSettings({ issuer: idp.issuer, clientId: TEST_CLIENT_ID, usernameClaim: 'preferred_username' });
});
afterAll(() => idp.close());

describe('OIDC browser sign-in (code + PKCE + state + nonce, loopback redirect)', () => {
  it('signs in, presents a verifiable ID token as the password, and keeps the refresh token', async () => {
    const secrets = memorySecrets();
    const browser = httpBrowser('alice');
    const statuses: OidcStatus[] = [];
    const login = new OidcLogin({ secrets, opener: browser, browserTimeoutMs: 20_000 });
    const creds = await login.credentials('p1', settings, { status: (s) => statuses.push(s) });
    recordSecret(creds.password, secrets.values.get(refreshTokenAccount('p1')));

    expect(creds.username).toBe('alice');
    const { payload } = await jwtVerify(creds.password, createRemoteJWKSet(new URL(`${idp.issuer}/jwks`)), {
      issuer: idp.issuer,
      audience: TEST_CLIENT_ID,
    });
    expect(payload.sub).toBe('alice');

    const authUrl = new URL(browser.opened[0] ?? '');
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('state')).toBeTruthy();
    expect(authUrl.searchParams.get('nonce')).toBeTruthy();
    expect(authUrl.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(statuses.map((s) => s.kind)).toEqual(['waiting-for-browser']);

    const stored = JSON.parse(secrets.values.get(refreshTokenAccount('p1')) ?? '{}');
    expect(stored).toMatchObject({ issuer: idp.issuer, clientId: TEST_CLIENT_ID });
    expect(typeof stored.refreshToken).toBe('string');

    // A reconnect needs no browser while the refresh token is valid; the token rotates.
    const again = await login.credentials('p1', settings, { status: (s) => statuses.push(s) });
    recordSecret(again.password, secrets.values.get(refreshTokenAccount('p1')));
    expect(browser.opened).toHaveLength(1);
    expect(again.username).toBe('alice');
    // Compare tokens as booleans: an assertion message must never print a token.
    expect((await jwtVerify(again.password, createRemoteJWKSet(new URL(`${idp.issuer}/jwks`)))).payload.sub).toBe('alice');
    expect(statuses.at(-1)).toEqual({ kind: 'refreshing' });
    const rotated = JSON.parse(secrets.values.get(refreshTokenAccount('p1')) ?? '{}').refreshToken !== stored.refreshToken;
    expect(rotated).toBe(true);
  });

  it('refuses a callback whose state does not match', async () => {
    const login = new OidcLogin({
      secrets: memorySecrets(),
      opener: httpBrowser('mallory', (u) => u.searchParams.set('state', 'attacker-chosen-state')),
      browserTimeoutMs: 20_000,
    });
    const err = await login.credentials('p2', settings).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OidcLoginError);
    expect((err as Error).message).toMatch(/refused.*state/);
  });

  it('refuses an ID token whose nonce does not match', async () => {
    const login = new OidcLogin({
      secrets: memorySecrets(),
      opener: httpBrowser('mallory', (u) => u.searchParams.set('nonce', 'attacker-chosen-nonce')),
      browserTimeoutMs: 20_000,
    });
    const err = await login.credentials('p3', settings).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OidcLoginError);
    expect((err as Error).message).toMatch(/refused.*nonce/);
  });

  it('times out clearly when the browser never comes back', async () => {
    const login = new OidcLogin({ secrets: memorySecrets(), opener: { open: async () => undefined }, browserTimeoutMs: 300 });
    await expect(login.credentials('p4', settings)).rejects.toThrow(/No sign-in arrived from the browser/);
  });

  it('falls back to the browser when the stored refresh token was revoked', async () => {
    const secrets = memorySecrets();
    const browser = httpBrowser('carol');
    const login = new OidcLogin({ secrets, opener: browser, browserTimeoutMs: 20_000 });
    const first = await login.credentials('p5', settings);
    recordSecret(first.password, secrets.values.get(refreshTokenAccount('p5')));
    const stolen = secrets.values.get(refreshTokenAccount('p5'));
    expect(await login.logout('p5', settings)).toEqual({ hadToken: true, revoked: true });
    expect(secrets.values.has(refreshTokenAccount('p5'))).toBe(false);

    // The revoked token no longer works at the provider: put it back and connect again.
    secrets.values.set(refreshTokenAccount('p5'), stolen ?? '');
    const second = await login.credentials('p5', settings);
    recordSecret(second.password, secrets.values.get(refreshTokenAccount('p5')));
    expect(browser.opened).toHaveLength(2);
    expect(second.username).toBe('carol');
    expect(await login.logout('p6-never-signed-in', settings)).toEqual({ hadToken: false, revoked: false });
  });
});

describe('OIDC device authorization grant', () => {
  it('shows a user code and completes when the user signs in elsewhere', async () => {
    const secrets = memorySecrets();
    const login = new OidcLogin({ secrets, opener: { open: async () => expect.fail('no browser in device mode') } });
    const creds = await login.credentials('d1', settings, {
      mode: 'device',
      status: (s) => {
        if (s.kind === 'device-code') void signInOverHttp(s.prompt.verificationUriComplete ?? '', 'dave');
      },
    });
    recordSecret(creds.password, secrets.values.get(refreshTokenAccount('d1')));
    expect(creds.username).toBe('dave');
    expect(secrets.values.has(refreshTokenAccount('d1'))).toBe(true);
  }, 30_000);
});

describe('parseOidcSettings', () => {
  it('completes defaults and always asks for openid', () => {
    expect(parseOidcSettings({ issuer: 'https://id.example.com', clientId: 'vpn', scopes: 'email,profile' })).toEqual({
      issuer: 'https://id.example.com',
      clientId: 'vpn',
      scopes: ['openid', 'email', 'profile'],
      usernameClaim: 'sub',
      token: 'id_token',
    });
  });

  it.each([
    [{ clientId: 'x' }, /issuer/],
    [{ issuer: 'http://id.example.com', clientId: 'x' }, /https/],
    [{ issuer: 'ftp://x', clientId: 'x' }, /https/],
    [{ issuer: 'https://id.example.com' }, /client id/],
    [{ issuer: 'https://id.example.com', clientId: 'x', token: 'refresh_token' }, /id_token or access_token/],
    [{ issuer: 'https://id.example.com', clientId: 'x', usernameClaim: 'a b' }, /not a claim/],
  ])('refuses %o', (input, reason) => {
    expect(() => parseOidcSettings(input)).toThrow(reason);
  });
});
