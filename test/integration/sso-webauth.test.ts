// OpenVPN pending authentication end to end with `causeway connect`: stock openvpn 2.6 servers in
// the lab whose management controller answers with AUTH_PENDING (WEB_AUTH, OPEN_URL, CR_TEXT).
// Causeway opens the server's sign-in page in the browser (Chromium as the user), or asks the
// CR_TEXT question on the terminal, and the tunnel comes up and carries traffic.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type LabServer } from '../peers/lab/index.js';
import { chromiumUser, launchChromium, type ChromiumUser } from '../peers/sso-common/chromium.js';
import { CliUser } from '../peers/sso-common/cli-user.js';
import { recordSecret } from '../peers/sso-common/record-secret.js';
import { PendingAuthPeer, pendingAuthServerLines, type PendingMode } from '../peers/webauth/controller.js';

const SECRET = randomBytes(9).toString('base64url');
const OTP = String(100000 + (randomBytes(3).readUIntBE(0, 3) % 900000));

let lab: Lab;
let browser: Browser;
let chromium: ChromiumUser;
let user: CliUser;
const openedUrls: string[] = [];
const peers: PendingAuthPeer[] = [];
/** The password the simulated user types on the server's sign-in page. */
let typedPassword = SECRET;

async function pendingServer(name: string, mode: PendingMode, extra: { secret?: string; urlOverride?: string } = {}) {
  const socketPath = join(lab.dir, `${name}.sock`);
  const server: LabServer = await lab.startServer({ proto: 'udp', extra: pendingAuthServerLines(socketPath) });
  const peer = await PendingAuthPeer.start({
    socketPath,
    mode,
    secret: extra.secret ?? SECRET,
    timeoutSec: 60,
    banner: `signed in with ${mode}`,
    ...(extra.urlOverride ? { urlOverride: extra.urlOverride } : {}),
  });
  peers.push(peer);
  await user.importProfile(
    name,
    [
      'client',
      'dev tun',
      'proto udp',
      `remote ${server.info.address} ${server.info.port}`,
      'remote-cert-tls server',
      'auth-retry none',
      `<ca>\n${lab.pki.ca}</ca>`,
      '',
    ].join('\n'),
  );
  return { server, peer };
}

let servers: Record<string, Awaited<ReturnType<typeof pendingServer>>>;

beforeAll(async () => {
  recordSecret(SECRET, OTP);
  lab = await Lab.create();
  browser = await launchChromium();
  chromium = chromiumUser(browser, async (page) => {
    await page.waitForSelector('input[name=password]', { timeout: 15_000 });
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', typedPassword);
    await page.click('button[type=submit]');
    await page.waitForLoadState('load');
  });
  user = await CliUser.create({
    suite: 'sso-webauth',
    helperNetns: lab.netns.client,
    openUrl: (url) => {
      openedUrls.push(url);
      void chromium.open(url);
    },
    env: { CAUSEWAY_SECRET_STORE: 'memory' },
  });
  servers = {
    webauth: await pendingServer('webauth', 'webauth'),
    openurl: await pendingServer('openurl', 'openurl'),
    crtext: await pendingServer('crtext', 'crtext', { secret: OTP }),
    unsafe: await pendingServer('unsafe', 'webauth', { urlOverride: 'http://10.99.0.1:8080/signin' }),
  };
}, 300_000);

afterEach(async () => {
  await user?.stopAll();
  await chromium?.settled();
  typedPassword = SECRET;
  openedUrls.length = 0;
});

afterAll(async () => {
  await user?.close();
  for (const p of peers) p.close();
  await browser?.close();
  await lab?.close();
});

describe('AUTH_PENDING through causeway connect', () => {
  it.each(['webauth', 'openurl'] as const)('%s: opens the sign-in page, shows the wait with the server timeout, connects', async (mode) => {
    const { server, peer } = servers[mode]!;
    const run = user.connect(mode);
    await run.waitFor((e) => e.event === 'state' && (e.state as { waiting?: string }).waiting === 'browser', 60_000);
    // The wait is announced with the timeout the server gave (client-pending-auth … 60).
    expect(await run.waitFor((e) => e.event === 'waiting-for-browser', 60_000)).toMatchObject({ host: expect.stringMatching(/^127\.0\.0\.1:/), timeoutSec: 60 });
    await run.waitForPhase('connected', 60_000);
    expect(openedUrls).toHaveLength(1);
    expect(openedUrls[0]!.startsWith(`${peer.webBase}/signin?s=`)).toBe(true);
    expect(peer.events).toContain('allowed');
    expect(run.events.filter((e) => e.event === 'banner').map((e) => e.text)).toEqual([`signed in with ${mode}`]);
    await lab.ping(server.info.tunnelAddress);
    expect(await run.stop()).toBe(0);
  });

  it('webauth with the wrong password at the sign-in page: refused, never connected', async () => {
    typedPassword = 'wrong-password';
    const run = user.connect('webauth');
    const failed = await run.waitForPhase('failed', 60_000);
    expect(JSON.stringify(failed.state)).toMatch(/Web sign-in failed/);
    expect(run.states().some((e) => e.phase === 'connected')).toBe(false);
  });

  it('CR_TEXT: asks the server’s question on the terminal, answers with cr-response, connects', async () => {
    const { server, peer } = servers.crtext!;
    const run = user.connect('crtext');
    const prompt = await run.waitFor((e) => e.event === 'prompt', 60_000);
    expect(prompt).toMatchObject({ kind: 'challenge', text: 'Enter the code from your authenticator app', echo: true });
    run.answer(OTP);
    await run.waitForPhase('connected', 60_000);
    expect(peer.events).toContain('allowed');
    expect(openedUrls).toEqual([]);
    await lab.ping(server.info.tunnelAddress);
    expect(await run.stop()).toBe(0);
  });

  it('refuses to open a plain-http sign-in page on another machine, and says so', async () => {
    const run = user.connect('unsafe');
    const failed = await run.waitForPhase('failed', 60_000);
    expect(JSON.stringify(failed.state)).toMatch(/only https addresses/);
    expect(openedUrls).toEqual([]);
  });
});
