// OIDC end to end with `causeway`: a profile imported with --oidc-issuer/--oidc-client-id, a real
// OpenID provider (oidc-provider on 127.0.0.1), a stock openvpn server in the lab whose
// auth-user-pass-verify script checks the ID token against the provider's keys, Chromium as the
// user. Covers code + PKCE in the browser, reconnect without a browser (refresh token in the
// keyring), `causeway logout` (revoked, next connect signs in again), `--device-code`, and a
// tampered `state` being refused.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type LabServer } from '../peers/lab/index.js';
import { startOidcProvider, TEST_CLIENT_ID, type TestOidcProvider } from '../peers/oidc-idp/provider.js';
import { chromiumUser, launchChromium, oidcLogin, type ChromiumUser } from '../peers/sso-common/chromium.js';
import { CliUser } from '../peers/sso-common/cli-user.js';
import { recordSecret } from '../peers/sso-common/record-secret.js';
import { startTestKeyring, type TestKeyring } from '../support/keyring.js';

const repo = resolve(import.meta.dirname, '..', '..');
const PROFILE = 'corp-oidc';
const TOKEN_TTL_SEC = 20;

let lab: Lab;
let idp: TestOidcProvider;
let server: LabServer;
let keyring: TestKeyring;
let browser: Browser;
let chromium: ChromiumUser;
let user: CliUser;
let outcomeLog: string;
/** What the simulated user's browser does with each URL the CLI opens. */
let onUrl: (url: string) => void;
const openedUrls: string[] = [];

function outcomes(): string[] {
  try {
    return readFileSync(outcomeLog, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** The refresh token Causeway keeps in the keyring (read only to add it to the secret-scan list). */
function storedRefreshToken(profileId: string): string | null {
  let stored: string;
  try {
    stored = execFileSync('secret-tool', ['lookup', 'service', 'causeway', 'account', `profile/${profileId}/oidc-refresh-token`], {
      env: keyring.env,
      encoding: 'utf8',
    });
  } catch {
    return null;
  }
  return (JSON.parse(stored) as { refreshToken: string }).refreshToken;
}

async function profileId(): Promise<string> {
  const r = await user.cli(['show', PROFILE, '--json']);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

beforeAll(async () => {
  [lab, keyring] = await Promise.all([Lab.create(), startTestKeyring()]);
  recordSecret(keyring.password);
  // Short-lived tokens, so one test can watch a token expire during a session.
  idp = await startOidcProvider({ tokenTtlSec: TOKEN_TTL_SEC });
  const jwksFile = join(lab.dir, 'oidc-jwks.json');
  writeFileSync(jwksFile, JSON.stringify(await (await fetch(`${idp.issuer}/jwks`)).json()));
  outcomeLog = join(lab.dir, 'oidc-outcomes.log');
  const script = join(repo, 'test', 'peers', 'oidc-idp', 'verify-token.mjs');
  const secrets = join(repo, 'test-results', 'secrets.txt');
  // A wrapper: openvpn caps a config line at 256 characters.
  const wrapper = join(lab.dir, 'verify-oidc.sh');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec "${process.execPath}" "${script}" "${jwksFile}" "${idp.issuer}" "${TEST_CLIENT_ID}" preferred_username "${outcomeLog}" "${secrets}"\n`,
    { mode: 0o755 },
  );
  server = await lab.startServer({
    proto: 'udp',
    extra: [
      // via-env: tokens are longer than the 512 bytes via-file allows; level 3 exposes $password.
      'script-security 3',
      `auth-user-pass-verify ${wrapper} via-env`,
      'verify-client-cert none',
      'username-as-common-name',
    ],
  });
  browser = await launchChromium();
  chromium = chromiumUser(browser, (page) => oidcLogin(page, 'alice'));
  onUrl = (url) => void chromium.open(url);
  user = await CliUser.create({
    suite: 'sso-oidc',
    helperNetns: lab.netns.client,
    openUrl: (url) => {
      openedUrls.push(url);
      onUrl(url);
    },
    env: { ...keyring.env, CAUSEWAY_SECRET_STORE: 'auto', CAUSEWAY_SIGNIN_TIMEOUT_SEC: '30' },
  });
  await user.importProfile(
    PROFILE,
    [
      'client',
      'dev tun',
      'proto udp',
      `remote ${server.info.address} ${server.info.port}`,
      'remote-cert-tls server',
      'auth-user-pass',
      `<ca>\n${lab.pki.ca}</ca>`,
      '',
    ].join('\n'),
    ['--oidc-issuer', idp.issuer, '--oidc-client-id', TEST_CLIENT_ID, '--oidc-username-claim', 'preferred_username'],
  );
}, 300_000);

afterEach(async () => {
  await user?.stopAll();
  await chromium?.settled();
  openedUrls.length = 0;
  onUrl = (url) => void chromium.open(url);
});

afterAll(async () => {
  const id = user ? await profileId().catch(() => null) : null;
  if (id) recordSecret(storedRefreshToken(id));
  // The verify script's outcomes (never a token) and the server log, for diagnosis.
  if (user) writeFileSync(join(user.results, 'server.log'), `${outcomes().join('\n')}\n${server?.process.log ?? ''}`);
  await user?.close();
  await browser?.close();
  await idp?.close();
  await lab?.close();
  await keyring?.stop();
});

describe('causeway connect on an OIDC profile', () => {
  it('signs in with code + PKCE in the browser; the server verifies the ID token; traffic flows', async () => {
    const run = user.connect(PROFILE);
    await run.waitForPhase('connected', 90_000);
    expect(openedUrls).toHaveLength(1);
    const auth = new URL(openedUrls[0]!);
    expect(auth.origin).toBe(idp.issuer);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(outcomes().at(-1)).toBe('accepted alice');
    await lab.ping(server.info.tunnelAddress);
    expect(await run.stop()).toBe(0);
    recordSecret(storedRefreshToken(await profileId()));
    expect(storedRefreshToken(await profileId())).toBeTruthy();
  });

  it('reconnects without a browser while the refresh token is valid', async () => {
    const before = outcomes().length;
    const run = user.connect(PROFILE);
    await run.waitForPhase('connected', 60_000);
    expect(openedUrls).toEqual([]);
    expect(outcomes().slice(before)).toEqual(['accepted alice']);
    await lab.ping(server.info.tunnelAddress);
    expect(await run.stop()).toBe(0);
    recordSecret(storedRefreshToken(await profileId()));
  });

  it('renews an expired token with the refresh token when the session reconnects (no browser)', async () => {
    const run = user.connect(PROFILE);
    await run.waitForPhase('connected', 60_000);
    const before = outcomes().length;
    // Let the token the engine holds expire, then make the engine reconnect with it.
    await new Promise((r) => setTimeout(r, (TOKEN_TTL_SEC + 2) * 1000));
    await server.restart();
    await run.waitFor(() => run.states().filter((e) => e.phase === 'connected').length >= 2, 90_000);
    expect(outcomes().slice(before)).toEqual([expect.stringMatching(/^refused alice: ERR_JWT_EXPIRED/), 'accepted alice']);
    expect(openedUrls).toEqual([]);
    await lab.ping(server.info.tunnelAddress);
    expect(await run.stop()).toBe(0);
    recordSecret(storedRefreshToken(await profileId()));
  });

  it('causeway logout revokes and forgets the token; the next connect asks the browser again', async () => {
    const id = await profileId();
    const token = storedRefreshToken(id);
    recordSecret(token);
    const r = await user.cli(['logout', PROFILE, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ hadToken: true, revoked: true });
    expect(storedRefreshToken(id)).toBeNull();

    const run = user.connect(PROFILE);
    await run.waitForPhase('connected', 90_000);
    expect(openedUrls).toHaveLength(1);
    expect(await run.stop()).toBe(0);
    recordSecret(storedRefreshToken(id));
  });

  it('--device-code: shows a code, the user signs in on "another device", the tunnel comes up', async () => {
    await user.cli(['logout', PROFILE]);
    const run = user.connect(PROFILE, ['--device-code']);
    const code = await run.waitFor((e) => e.event === 'device-code', 60_000);
    expect(code.userCode).toMatch(/\S{4,}/);
    expect(openedUrls).toEqual([]); // nothing opened on this machine
    const phone = chromiumUser(browser, async (page) => {
      await page.click('button[form="op.deviceConfirmForm"]:not([name=abort])');
      await oidcLogin(page, 'alice');
      await page.waitForSelector('text=Sign-in Success', { timeout: 15_000 });
    });
    await phone.open(String(code.verificationUriComplete));
    await run.waitForPhase('connected', 90_000);
    await phone.settled();
    expect(phone.errors).toEqual([]);
    await lab.ping(server.info.tunnelAddress);
    expect(await run.stop()).toBe(0);
    recordSecret(storedRefreshToken(await profileId()));
  });

  it('a callback whose state was tampered with is refused; no tunnel', async () => {
    await user.cli(['logout', PROFILE]);
    onUrl = (url) => {
      const u = new URL(url);
      u.searchParams.set('state', 'attacker-chosen-state');
      void chromium.open(u.href);
    };
    const before = outcomes().length;
    const run = user.connect(PROFILE);
    const failed = await run.waitForPhase('failed', 90_000);
    expect(JSON.stringify(failed.state)).toMatch(/refused.*state/);
    expect(outcomes().slice(before)).toEqual([]); // nothing ever reached the VPN server
    expect(run.states().some((e) => e.phase === 'connected')).toBe(false);
  });
});

describe('OIDC nonce', () => {
  it('an ID token minted for another nonce is refused; no tunnel', async () => {
    await user.cli(['logout', PROFILE]);
    onUrl = (url) => {
      const u = new URL(url);
      u.searchParams.set('nonce', 'attacker-chosen-nonce');
      void chromium.open(u.href);
    };
    const before = outcomes().length;
    const run = user.connect(PROFILE);
    const failed = await run.waitForPhase('failed', 90_000);
    expect(JSON.stringify(failed.state)).toMatch(/refused.*nonce/);
    expect(outcomes().slice(before)).toEqual([]);
    expect(run.states().some((e) => e.phase === 'connected')).toBe(false);
  });
});
