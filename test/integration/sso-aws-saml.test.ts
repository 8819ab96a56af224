// AWS Client VPN SAML end to end, as a user runs it: `causeway import` of the endpoint's .ovpn
// (auth-federate), `causeway connect`, the CLI opens the browser (Chromium, driven by the test as
// the user) at the IdP URL from the CRV1 challenge, the user signs in at SimpleSAMLphp, the IdP
// posts to Causeway's ACS on 127.0.0.1:35001, Causeway's engine (in the lab's client namespace)
// carries the SAML response to the AWS-like endpoint, and the tunnel carries traffic.
//
// Port 35001 is the real AWS VPN Client's: this file, the CLI and Chromium it starts run in a
// network namespace of their own (vitest.integration.config.ts), never on the host's port.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AWS_ACS_PORT, startAcsListener } from '../../main/auth/saml-acs.js';
import { patchedOpenvpn, startAwsEndpoint, type AwsEndpoint } from '../peers/aws-endpoint/endpoint.js';
import { Lab } from '../peers/lab/index.js';
import { startSimpleSamlIdp, type SimpleSamlIdp } from '../peers/saml-idp/simplesamlphp.js';
import { chromiumUser, launchChromium, samlLogin, type ChromiumUser } from '../peers/sso-common/chromium.js';
import { CliUser } from '../peers/sso-common/cli-user.js';
import { recordSecret } from '../peers/sso-common/record-secret.js';
import { portPlacement } from '../support/host-netns.js';

const BANNER = ['Welcome to the Example Corp VPN.', 'Use of this system is monitored.'];
const DENIED = 'Your account is not allowed to use this VPN. Contact it-help@example.test.';
const PROFILE = 'corp-aws';

let lab: Lab;
let idp: SimpleSamlIdp;
let endpoint: AwsEndpoint;
let browser: Browser;
let user: CliUser;
/** Who the simulated user signs in as, and with which password, for the current test. */
let login = { username: 'alice', password: '' };
let chromium: ChromiumUser;
const openedUrls: string[] = [];
/** Runs after the CLI asked for the browser and before the user acts (a forger, in one test). */
let beforeBrowser: (url: string) => Promise<void> = async () => undefined;

beforeAll(async () => {
  patchedOpenvpn();
  lab = await Lab.create();
  idp = await startSimpleSamlIdp();
  for (const u of Object.values(idp.users)) recordSecret(u.password);
  endpoint = await startAwsEndpoint(lab, {
    slot: 41,
    idp: { ssoUrl: idp.ssoUrl, certPem: idp.certPem },
    banner: BANNER,
    requiredGroup: 'vpn-users',
    deniedMessage: DENIED,
    onSecret: (s) => recordSecret(s),
  });
  browser = await launchChromium();
  chromium = chromiumUser(browser, async (page) => void (await samlLogin(page, login.username, login.password)));
  user = await CliUser.create({
    suite: 'sso-aws-saml',
    helperNetns: lab.netns.client,
    openUrl: (url) => {
      openedUrls.push(url);
      void beforeBrowser(url).then(() => chromium.open(url));
    },
    env: { CAUSEWAY_SECRET_STORE: 'memory', CAUSEWAY_SIGNIN_TIMEOUT_SEC: '20' },
  });
  await user.importProfile(PROFILE, endpoint.profileText());
}, 600_000);

afterEach(async () => {
  beforeBrowser = async () => undefined;
  await user?.stopAll();
  await chromium?.settled();
});

afterAll(async () => {
  await user?.close();
  await browser?.close();
  await endpoint?.stop();
  await idp?.stop();
  await lab?.close();
});

function signInAs(username: string, password?: string): void {
  login = { username, password: password ?? idp.users[username]!.password };
  openedUrls.length = 0;
}

describe('causeway connect on an AWS SAML (auth-federate) profile', () => {
  it.each([
    ['alice', 'a realistic (≈9 KB)', 6_000, 20_000],
    ['many', 'a large (≈60 KB)', 45_000, 90_000],
    // Past 64 KiB only the AWS u32 key-method-2 framing can carry it.
    ['huge', 'a near-limit (≈120 KB)', 90_000, 128_000],
  ])('%s signs in in the browser with %s assertion; banner shown; the tunnel carries traffic', async (name, _label, min, max) => {
    signInAs(name);
    const accepted = endpoint.controller.events.length;
    const run = user.connect(PROFILE);
    await run.waitForPhase('connected', 90_000);
    // One browser tab for one login, opened at the IdP from the CRV1 challenge.
    expect(openedUrls).toHaveLength(1);
    expect(openedUrls[0]).toMatch(new RegExp(`^${idp.ssoUrl.replace(/[.?]/g, '\\$&')}\\?SAMLRequest=`));
    const banners = run.events.filter((e) => e.event === 'banner').map((e) => e.text);
    expect(banners).toEqual(BANNER);
    await lab.ping(endpoint.info.tunnelAddress);

    const outcome = endpoint.controller.events.slice(accepted).find((e) => e.startsWith('accepted'));
    expect(outcome).toMatch(new RegExp(`^accepted ${name}@example.test \\((\\d+) byte SAMLResponse`));
    const bytes = Number(/\((\d+) byte/.exec(outcome ?? '')?.[1]);
    appendFileSync(join(user.results, 'assertion-sizes.txt'), `${name}: ${bytes} byte SAMLResponse\n`);
    expect(bytes).toBeGreaterThan(min);
    expect(bytes).toBeLessThan(max);
    // The assertion went to the endpoint exactly once: never retried, never replayed.
    expect(endpoint.controller.events.slice(accepted).filter((e) => /^(accepted|refused|denied)/.test(e))).toHaveLength(1);

    expect(await run.stop()).toBe(0);
    expect(await lab.clientDevices()).toEqual([]);
    // After the login the ACS is closed: a forged post with no login pending finds nobody listening.
    await expect(
      fetch('http://127.0.0.1:35001/', { method: 'POST', body: new URLSearchParams({ SAMLResponse: 'Zm9yZ2Vk' }) }),
    ).rejects.toThrow(/fetch failed/);
  });

  it('a forged post to the ACS while a login is pending is turned away; the real login completes', async () => {
    signInAs('alice');
    const forged: number[] = [];
    let placement: ReturnType<typeof portPlacement> | undefined;
    beforeBrowser = async () => {
      // The CLI's ACS is up: on the default port, in this file's namespace, and not on the host's.
      placement = portPlacement(AWS_ACS_PORT);
      // Another local program posts an assertion of its own choosing (answering no request of ours).
      const xml = '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" InResponseTo="_forged"/>';
      const res = await fetch('http://127.0.0.1:35001/', {
        method: 'POST',
        body: new URLSearchParams({ SAMLResponse: Buffer.from(xml).toString('base64') }),
      });
      forged.push(res.status);
    };
    const run = user.connect(PROFILE);
    await run.waitForPhase('connected', 90_000);
    expect(forged).toEqual([403]);
    expect(placement).toEqual({ ownNetns: true, own: [`127.0.0.1:${AWS_ACS_PORT}`], host: [] });
    await lab.ping(endpoint.info.tunnelAddress);
    expect(await run.stop()).toBe(0);
  });

  it('shows the endpoint’s denial (client connect handler) as the reason; no tunnel', async () => {
    signInAs('bob');
    const run = user.connect(PROFILE);
    const failed = await run.waitForPhase('failed', 90_000);
    expect(JSON.stringify(failed.state)).toContain(DENIED);
    expect(openedUrls).toHaveLength(1); // the refused login is not retried with another tab
    expect(await run.exited).toBe(3);
    expect(await lab.clientDevices()).toEqual([]);
    // The handler's own words are in the session log the user can read (`causeway logs`).
    const logs = await user.cli(['logs', PROFILE]);
    expect(logs.stdout).toContain(DENIED);
  });

  it('a wrong IdP password: the tunnel never comes up and the state says why', async () => {
    signInAs('alice', 'not-alices-password');
    const before = endpoint.controller.events.length;
    const run = user.connect(PROFILE);
    await run.waitFor((e) => e.event === 'state' && JSON.stringify(e.state).includes('browser'), 60_000);
    const failed = await run.waitForPhase('failed', 60_000);
    expect(JSON.stringify(failed.state)).toMatch(/No sign-in arrived from the browser/);
    expect(run.states().some((e) => e.phase === 'connected')).toBe(false);
    expect(endpoint.controller.events.slice(before).filter((e) => e.startsWith('accepted'))).toEqual([]);
    expect(await run.exited).toBe(3);
  });

  it('another program holding 127.0.0.1:35001: clear error, no browser opened', async () => {
    signInAs('alice');
    const squatter = await startAcsListener({ timeoutMs: 120_000 });
    try {
      const run = user.connect(PROFILE);
      const failed = await run.waitForPhase('failed', 60_000);
      expect(JSON.stringify(failed.state)).toMatch(/port 35001 on 127\.0\.0\.1 is in use by another program/);
      expect(openedUrls).toEqual([]);
      expect(await run.exited).toBe(3);
    } finally {
      squatter.close();
    }
  });
});

describe('reconnecting an AWS SAML session', () => {
  it('uses the pushed auth-token after the endpoint restarts: no new browser tab, tunnel back', async () => {
    signInAs('alice');
    const run = user.connect(PROFILE);
    await run.waitForPhase('connected', 90_000);
    expect(openedUrls).toHaveLength(1);
    const connectedEvents = () => run.states().filter((e) => e.phase === 'connected').length;
    await endpoint.restart();
    await run.waitFor((e) => e.event === 'state' && e.phase === 'reconnecting', 60_000);
    await run.waitFor(() => connectedEvents() >= 2, 90_000);
    expect(openedUrls).toHaveLength(1); // the token did it: no second login
    expect(endpoint.controller.events.filter((e) => e === 'challenge' || e.startsWith('refused'))).toEqual([]);
    await lab.ping(endpoint.info.tunnelAddress);
    expect(await run.stop()).toBe(0);
  });
});

describe('reconnecting when the auth-token is no longer valid', () => {
  it('runs one fresh browser login (one new tab) and comes back', async () => {
    signInAs('alice');
    const run = user.connect(PROFILE);
    await run.waitForPhase('connected', 90_000);
    expect(openedUrls).toHaveLength(1);
    const connectedEvents = () => run.states().filter((e) => e.phase === 'connected').length;
    await endpoint.restart({ forgetTokens: true });
    await run.waitFor(() => connectedEvents() >= 2, 120_000);
    expect(openedUrls).toHaveLength(2);
    const decisions = endpoint.controller.events.filter((e) => /^(challenge|accepted|refused|denied)/.test(e));
    // The used assertion is never sent again: after the token is refused the engine goes back to
    // the first leg (ACS::35001), the endpoint challenges, and one fresh login answers it.
    expect(decisions).toEqual(['challenge', expect.stringMatching(/^accepted alice@example.test/)]);
    await lab.ping(endpoint.info.tunnelAddress);
    expect(await run.stop()).toBe(0);
  });
});
