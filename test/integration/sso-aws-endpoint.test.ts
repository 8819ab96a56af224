// The AWS-like endpoint and the SimpleSAMLphp IdP verified on their own, with Causeway's ACS
// listener and CRV1 parser on the client side and the patched openvpn as the VPN client (it can
// carry a long password, like AWS's own client). Proves the peers behave as AWS does before
// Causeway's engine is put in front of them (sso-aws-saml.test.ts). The ACS listens on the
// default 127.0.0.1:35001, the real AWS VPN Client's port, so this file runs in a network namespace
// of its own (vitest.integration.config.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crv1Password, parseCrv1 } from '../../main/auth/crv1.js';
import { startAcsListener, AWS_ACS_PORT } from '../../main/auth/saml-acs.js';
import { patchedOpenvpn, type AwsEndpoint } from '../peers/aws-endpoint/endpoint.js';
import { BANNER, DENIED, startSamlLab, type SamlLab } from '../peers/aws-endpoint/saml-lab.js';
import type { Lab } from '../peers/lab/index.js';
import { LabProcess } from '../peers/lab/process.js';
import type { SimpleSamlIdp } from '../peers/saml-idp/simplesamlphp.js';
import { chromiumUser, launchChromium, samlLogin } from '../peers/sso-common/chromium.js';
import { recordSecret } from '../peers/sso-common/record-secret.js';
import { portPlacement } from '../support/host-netns.js';
import { spawn } from 'node:child_process';


let samlLab: SamlLab;
let lab: Lab;
let idp: SimpleSamlIdp;
let endpoint: AwsEndpoint;
let browser: Browser;
let attempt = 0;

beforeAll(async () => {
  patchedOpenvpn(); // build (or find cached) before the clock of any test starts
  samlLab = await startSamlLab();
  ({ lab, idp, endpoint } = samlLab);
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await samlLab?.stop();
});

/** Runs the patched openvpn as a client with the given credentials until it connects or gives up. */
async function standInClient(username: string, password: string): Promise<{ ok: boolean; log: string; proc: LabProcess }> {
  const n = attempt++;
  const auth = join(lab.dir, `aws-client-${n}.auth`);
  writeFileSync(auth, `${username}\n${password}\n`, { mode: 0o600 });
  const conf = join(lab.dir, `aws-client-${n}.conf`);
  writeFileSync(
    conf,
    [
      'client',
      'dev tun',
      `proto ${endpoint.info.options.proto}`,
      `remote ${endpoint.info.address} ${endpoint.info.port}`,
      'nobind',
      'remote-cert-tls server',
      `ca ${lab.pki.caPath}`,
      `auth-user-pass ${auth}`,
      'auth-retry none',
      'verb 3',
      '',
    ].join('\n'),
  );
  const child = spawn('ip', ['netns', 'exec', lab.netns.client, patchedOpenvpn(), '--config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new LabProcess(child, 'stand-in client');
  const ok = await proc
    .waitForLog(/Initialization Sequence Completed|AUTH_FAILED/, 60_000)
    .then(() => proc.log.includes('Initialization Sequence Completed'));
  if (!ok) await proc.stop();
  return { ok, log: proc.log, proc };
}

/** Phase 1 as the product does it; returns the parsed challenge. */
async function challenge() {
  const first = await standInClient('N/A', `ACS::${AWS_ACS_PORT}`);
  expect(first.ok).toBe(false);
  const raw = /AUTH_FAILED,(CRV1:\S+)/.exec(first.log)?.[1];
  expect(raw, 'the endpoint answered with a CRV1 challenge').toBeTruthy();
  return parseCrv1(raw ?? '');
}

/** The browser part: ACS bound first, then the user logs in at the IdP. */
async function samlFromBrowser(url: string, user: string, password: string, timeoutMs = 60_000): Promise<string> {
  const acs = await startAcsListener({ timeoutMs });
  const userAgent = chromiumUser(browser, async (page) => void (await samlLogin(page, user, password)));
  await userAgent.open(url);
  try {
    return await acs.response;
  } catch (e) {
    await userAgent.settled();
    if (userAgent.errors.length) (e as Error).message += ` (browser: ${userAgent.errors.map((x) => x.message).join('; ')})`;
    throw e;
  } finally {
    acs.close();
    await userAgent.settled();
  }
}

describe('AWS-like endpoint + SimpleSAMLphp (stand-in patched openvpn client)', () => {
  it('answers ACS::35001 with an AWS-shaped CRV1 challenge carrying an SP-initiated SAML request', async () => {
    const c = await challenge();
    expect(c.stateId).toMatch(/^instance-1\/\d{19}\/[0-9a-f-]{36}$/);
    expect(c.username).toBe('N/A');
    expect(c.responseRequired).toBe(true);
    const url = new URL(c.text);
    expect(url.origin + url.pathname).toBe(idp.ssoUrl);
    expect(url.searchParams.get('SAMLRequest')).toBeTruthy();
  });

  it.each([
    ['alice', 'realistic (≈9 KB)', 6_000, 20_000],
    ['many', 'large (≈60 KB, hundreds of groups)', 45_000, 100_000],
  ])('logs %s in with a %s SAML response, pushes the banner and an auth-token, tunnel carries traffic', async (user, _label, min, max) => {
    const c = await challenge();
    const saml = await samlFromBrowser(c.text, user, idp.users[user]!.password);
    recordSecret(saml);
    expect(saml.length).toBeGreaterThan(min);
    expect(saml.length).toBeLessThan(max);
    const second = await standInClient('N/A', crv1Password(c.stateId, saml));
    try {
      expect(second.ok, second.log.slice(-2000)).toBe(true);
      expect(await endpoint.controller.waitFor(new RegExp(`accepted ${user}@example.test`))).toMatch(/byte SAMLResponse/);
      // openvpn's log hides pushed echo text and the token value ("echo,echo", "auth-token…"),
      // exactly as captures from real AWS endpoints show; Causeway's own test reads the text.
      const reply = /PUSH_REPLY,[^']*/.exec(second.log)?.[0] ?? '';
      expect(reply.split(',').filter((o) => o === 'echo')).toHaveLength(BANNER.length);
      expect(reply).toMatch(/auth-token/);
      await lab.ping(endpoint.info.tunnelAddress);

      // The same assertion again (a replay) is refused.
      await second.proc.stop();
      const replay = await standInClient('N/A', crv1Password(c.stateId, saml));
      expect(replay.ok).toBe(false);
      expect(replay.log).toContain('AUTH_FAILED,Invalid username or password');
    } finally {
      await second.proc.stop();
    }
  });

  it('shows the client connect handler denial as AUTH_FAILED text', async () => {
    const c = await challenge();
    const saml = await samlFromBrowser(c.text, 'bob', idp.users.bob!.password);
    recordSecret(saml);
    const r = await standInClient('N/A', crv1Password(c.stateId, saml));
    expect(r.ok).toBe(false);
    expect(r.log).toContain(`AUTH_FAILED,${DENIED}`);
  });

  it('a wrong IdP password never produces an assertion', async () => {
    const c = await challenge();
    const acs = await startAcsListener({ timeoutMs: 10_000 });
    expect(portPlacement(AWS_ACS_PORT)).toEqual({ ownNetns: true, own: [`127.0.0.1:${AWS_ACS_PORT}`], host: [] });
    let outcome: string | null = null;
    const userAgent = chromiumUser(browser, async (page) => void (outcome = await samlLogin(page, 'alice', 'not-the-password')));
    await userAgent.open(c.text);
    await expect(acs.response).rejects.toMatchObject({ code: 'timeout' });
    await userAgent.settled();
    expect(userAgent.errors).toEqual([]);
    expect(outcome).toBe('refused');
  });
});
