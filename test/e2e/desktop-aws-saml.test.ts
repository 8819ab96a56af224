// AWS Client VPN single sign-on through the desktop app: the real renderer in Chromium over the
// real core, an AWS-like endpoint (patched openvpn that carries long SAML passwords) and a
// SimpleSAMLphp identity provider. The user's browser is a second Chromium driven by the test.
// What the user sees: "Waiting for you to log in in your browser" with a way to reopen the page,
// then Connected and the endpoint's login banner. Needs root (namespaces, TUN). The app's ACS takes
// the default 127.0.0.1:35001, the real AWS VPN Client's port, so this file runs in a network
// namespace of its own (vitest.integration.config.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../app/ipc/handlers';
import { createLoginFlows } from '../../main/auth/login-flows';
import { AWS_ACS_PORT } from '../../main/auth/saml-acs';
import { openCore, type Core } from '../../main/core';
import { desktopCore } from '../../main/desktop/desktop-core';
import { DesktopService } from '../../main/desktop/desktop-service';
import { SettingsStore } from '../../main/desktop/settings-store';
import { MemoryStore } from '../../main/secrets/memory-store';
import type { AwsEndpoint } from '../peers/aws-endpoint/endpoint';
import { BANNER, startSamlLab, type SamlLab } from '../peers/aws-endpoint/saml-lab';
import { helperBinary, type Lab } from '../peers/lab';
import type { SimpleSamlIdp } from '../peers/saml-idp/simplesamlphp';
import { chromiumUser, launchChromium, samlLogin, type ChromiumUser } from '../peers/sso-common/chromium';
import { recordSecret } from '../peers/sso-common/record-secret';
import { portPlacement } from '../support/host-netns';
import { accessibilityViolations } from './support/a11y';
import { openUi, type Ui } from './support/harness';
import { hidden, shows, visible } from './support/ui-expect';


describe('AWS SAML sign-in in the desktop app', () => {
  let samlLab: SamlLab;
  let lab: Lab;
  let idp: SimpleSamlIdp;
  let endpoint: AwsEndpoint;
  let browser: Browser;
  let user: ChromiumUser;
  let core: Core;
  let ui: Ui;
  let work: string;
  /** The user signs in only once the test has seen the waiting state. */
  let signIn!: () => void;
  const readyToSignIn = new Promise<void>((resolve) => (signIn = resolve));

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'causeway-e2e-saml-'));
    samlLab = await startSamlLab({ onSecret: recordSecret });
    ({ lab, idp, endpoint } = samlLab);
    browser = await launchChromium();
    // Every page the app opens is loaded; the user signs in on the last one (the ACS takes one answer).
    let pages = 0;
    user = chromiumUser(browser, async (page) => {
      const mine = ++pages;
      await readyToSignIn;
      if (mine === user.opened.length) await samlLogin(page, 'alice', idp.users.alice!.password);
    });

    const settings = SettingsStore.inDir(join(work, 'config'));
    await settings.load();
    const service = new DesktopService({ settings, openUrl: (url) => user.open(url), version: '0.1.0-e2e', logError: () => {} });
    core = await openCore({
      prompter: service.prompts,
      openUrl: service.openLoginUrl,
      loginFlows: createLoginFlows({ opener: { open: service.openLoginUrl } }),
      configDir: join(work, 'config'),
      logDir: 'test-results/e2e-logs-saml',
      secrets: new MemoryStore(),
      helper: { helperPath: helperBinary(), wrap: ['ip', 'netns', 'exec', lab.netns.client], socketPath: null },
      clientName: 'causeway-e2e',
    });
    service.attach(desktopCore(core));
    ui = await openUi(createDispatcher(service.calls, (name, err) => console.error(`[ipc] ${name}:`, err)));
    service.setSink(ui.sink);
  }, 600_000);

  afterAll(async () => {
    await ui?.close();
    await core?.shutdown();
    await browser?.close();
    await samlLab?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('imports the AWS export and connects through the browser sign-in', async () => {
    const file = join(work, 'Example Corp.ovpn');
    writeFileSync(file, endpoint.profileText());
    const chooser = ui.page.waitForEvent('filechooser');
    await ui.page.getByRole('button', { name: 'Import profile…' }).click();
    await (await chooser).setFiles(file);
    await shows(ui.page.getByRole('status', { name: 'Import result' }), 'Imported “Example Corp”');
    const card = ui.page.getByRole('article', { name: 'Example Corp' });
    await shows(card, 'Single sign-on in your browser (AWS)');

    await card.getByRole('button', { name: 'Connect Example Corp' }).click();
    await shows(card.getByRole('status'), 'Waiting for you to log in in your browser', 30_000);
    expect(user.opened).toHaveLength(1);
    expect(portPlacement(AWS_ACS_PORT)).toEqual({ ownNetns: true, own: [`127.0.0.1:${AWS_ACS_PORT}`], host: [] });
    expect(new URL(user.opened[0]!).origin).toBe(new URL(idp.ssoUrl).origin);
    await ui.page.getByRole('button', { name: 'Dismiss' }).click();
    await ui.screenshot('20-aws-waiting-for-browser');
    expect(await accessibilityViolations(ui.page)).toEqual([]);

    await card.getByRole('button', { name: 'Open the login page again' }).click();
    await expect.poll(() => user.opened.length).toBe(2);
    expect(user.opened[1]).toBe(user.opened[0]);

    signIn();
    await shows(card.getByRole('status'), /Connected since \d\d:\d\d/, 60_000);
    const banner = ui.page.getByRole('alertdialog', { name: 'Message from Example Corp' });
    await shows(banner, BANNER[0]!, 15_000);
    await ui.screenshot('21-aws-banner');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
    await banner.getByRole('button', { name: 'OK' }).click();
    await hidden(banner);
    await visible(card.getByText(new RegExp(`^${endpoint.info.subnetPrefix.replace(/\./g, '\\.')}\\.\\d+$`)));
    await lab.ping(endpoint.info.tunnelAddress);

    await card.getByRole('button', { name: 'Disconnect Example Corp' }).click();
    await shows(card.getByRole('status'), 'Not connected', 20_000);
    await user.settled();
    expect(user.errors).toEqual([]);
    expect(ui.errors).toEqual([]);
  });
});
