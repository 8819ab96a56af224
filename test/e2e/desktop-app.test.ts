// The desktop app end to end: the real renderer build in Debian's Chromium, its bridge wired to
// the real desktop service and core (profile store, connection manager, causeway-helper in a
// network namespace) connecting to a stock openvpn server from the namespace lab. Each state the
// user sees is saved under test-results/screenshots/. Needs root (namespaces, TUN).
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../app/ipc/handlers';
import type { Events } from '../../app/ipc/schema';
import { openCore, type Core } from '../../main/core';
import { desktopCore } from '../../main/desktop/desktop-core';
import { keyAccount } from '../../main/profiles/store';
import { DesktopService } from '../../main/desktop/desktop-service';
import { SettingsStore } from '../../main/desktop/settings-store';
import { openSecretStore } from '../../main/secrets';
import { startTestKeyring, type TestKeyring } from '../support/keyring';
import { helperBinary, Lab, run, type LabServer } from '../peers/lab';
import { recordSecret } from '../peers/sso-common/record-secret';
import { openUi, type Ui } from './support/harness';
import { accessibilityViolations } from './support/a11y';
import { dropFile } from './support/drop';
import { heapHolds } from './support/heap';
import { hidden, shows, visible } from './support/ui-expect';

const BANNER = 'Authorized use only. Activity on this network is monitored.';

/**
 * A profile for a lab server as an administrator would hand it out: a password profile with a
 * script hook we must strip, or (like AWS mutual-auth exports) one that lacks its client certificate.
 */
function profileText(lab: Lab, server: LabServer, auth: 'password' | 'certificate-missing'): string {
  return [
    'client',
    'dev tun',
    `proto ${server.info.options.proto}`,
    `remote ${server.info.address} ${server.info.port}`,
    'nobind',
    'remote-cert-tls server',
    ...(auth === 'password' ? ['auth-user-pass', 'script-security 2', 'up /etc/openvpn/update-resolv-conf'] : []),
    'verb 3',
    '<ca>',
    lab.pki.ca.trim(),
    '</ca>',
    '',
  ].join('\n');
}

const card = (ui: Ui, name: string) => ui.page.getByRole('article', { name });

/** The lab's password server pushes its banner on every connection; the user reads and confirms it. */
async function acknowledgeBanner(ui: Ui): Promise<void> {
  const banner = ui.page.getByRole('alertdialog', { name: 'Message from Office Lab' });
  await visible(banner, 15_000);
  await banner.getByRole('button', { name: 'OK' }).click();
  await hidden(banner);
}

describe('desktop app in Chromium over the real core', () => {
  let lab: Lab;
  let server: LabServer;
  let certServer: LabServer;
  let keyring: TestKeyring;
  let core: Core;
  let ui: Ui;
  let work: string;
  const shown: Events['connection'][] = [];
  /** The Office Lab card's height when idle: no state change may make it jump. */
  let idleHeight = 0;
  const heightOf = async (name: string) => (await card(ui, name).boundingBox())!.height;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'causeway-e2e-'));
    lab = await Lab.create();
    // The secret-scan convention: every secret a test makes is listed so no log may contain it.
    recordSecret(lab.credentials.password);
    server = await lab.startServer({ proto: 'udp', clientAuth: 'password', push: [`echo ${BANNER}`] });
    certServer = await lab.startServer({ proto: 'tcp', clientAuth: 'cert' });
    keyring = await startTestKeyring();
    recordSecret(keyring.password);

    const settings = SettingsStore.inDir(join(work, 'config'));
    await settings.load();
    const service = new DesktopService({
      settings,
      openUrl: async () => {
        throw new Error('no browser sign-in in this test');
      },
      version: '0.1.0-e2e',
      logError: (context, err) => console.error(`[service] ${context}:`, err instanceof Error ? err.message : err),
    });
    // Logs go under test-results/ so the secret scan reads them too.
    const logDir = 'test-results/e2e-logs';
    rmSync(logDir, { recursive: true, force: true });
    core = await openCore({
      prompter: service.prompts,
      openUrl: service.openLoginUrl,
      configDir: join(work, 'config'),
      logDir,
      secrets: await openSecretStore({ env: keyring.env }),
      helper: { helperPath: helperBinary(), wrap: ['ip', 'netns', 'exec', lab.netns.client], socketPath: null },
      clientName: 'causeway-e2e',
    });
    service.attach(desktopCore(core));
    ui = await openUi(createDispatcher(service.calls, (name, err) => console.error(`[ipc] ${name}:`, err)));
    // Record every connection state the page was sent, to check short-lived ones like "Reconnecting…".
    service.setSink((event, payload) => {
      if (event === 'connection') shown.push(payload as Events['connection']);
      ui.sink(event, payload);
    });
  });

  afterAll(async () => {
    await ui?.close();
    await core?.shutdown();
    await lab?.close();
    await keyring?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('starts empty and says what to do', async () => {
    await visible(ui.page.getByRole('heading', { name: 'No profiles yet' }));
    await ui.screenshot('01-empty');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
  });

  it('imports a profile through the file dialog and shows the removed script hook', async () => {
    const file = join(work, 'Office Lab.ovpn');
    writeFileSync(file, profileText(lab, server, 'password'));
    const chooser = ui.page.waitForEvent('filechooser');
    await ui.page.getByRole('button', { name: 'Import profile…' }).click();
    await (await chooser).setFiles(file);
    const result = ui.page.getByRole('status', { name: 'Import result' });
    await shows(result, 'Imported “Office Lab”');
    await shows(result, /For your safety, Causeway removed these settings from Office Lab\.ovpn/);
    await shows(result.getByRole('listitem').filter({ hasText: /^up / }), /^up \(line 9\): /);
    await shows(ui.page.getByRole('article', { name: 'Office Lab' }), 'Username and password');
    idleHeight = await heightOf('Office Lab');
    await ui.screenshot('02-import-verdict');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
  });

  it('asks for the password in a dialog and connects, showing the address', async () => {
    const card = ui.page.getByRole('article', { name: 'Office Lab' });
    await card.getByRole('button', { name: 'Connect Office Lab' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Sign in to Office Lab' });
    await visible(dialog, 30_000);
    await shows(card.getByRole('status'), 'Enter your username and password');
    expect(await heightOf('Office Lab')).toBe(idleHeight);
    // Keyboard only, as a user without a mouse would.
    await ui.page.keyboard.type(lab.credentials.username);
    await ui.page.keyboard.press('Tab');
    await ui.page.keyboard.type(lab.credentials.password);
    await ui.screenshot('03-password-prompt');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
    await ui.page.keyboard.press('Enter');
    await hidden(dialog);
    await shows(card.getByRole('status'), /Connected since \d\d:\d\d/, 30_000);
    await visible(card.getByText(new RegExp(`^${server.info.subnetPrefix.replace(/\./g, '\\.')}\\.\\d+$`)));
  });

  it('shows the server’s banner until the user acknowledges it', async () => {
    const banner = ui.page.getByRole('alertdialog', { name: 'Message from Office Lab' });
    await shows(banner, BANNER, 15_000);
    await ui.screenshot('04-banner');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
    await banner.getByRole('button', { name: 'OK' }).click();
    await hidden(banner);
    expect(await heightOf('Office Lab')).toBe(idleHeight);
    await ui.page.waitForTimeout(1500); // let duration and traffic tick once for the screenshot
    await ui.screenshot('05-connected');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
  });

  it('carries traffic through the tunnel it shows as connected', async () => {
    await lab.ping(server.info.tunnelAddress);
    const card = ui.page.getByRole('article', { name: 'Office Lab' });
    await visible(card.getByText(/↓ [\d.]+ (B|KB)/), 15_000);
  });

  it('disconnects', async () => {
    const card = ui.page.getByRole('article', { name: 'Office Lab' });
    await card.getByRole('button', { name: 'Disconnect Office Lab' }).click();
    await shows(card.getByRole('status'), 'Not connected', 20_000);
    expect(await card.getByRole('button', { name: 'Connect Office Lab' }).isEnabled()).toBe(true);
    expect(await lab.clientDevices()).toEqual([]);
    await ui.screenshot('06-disconnected');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
  });

  it('explains a rejected password and what to do next', async () => {
    const card = ui.page.getByRole('article', { name: 'Office Lab' });
    await card.getByRole('button', { name: 'Connect Office Lab' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Sign in to Office Lab' });
    await visible(dialog, 30_000);
    await dialog.getByLabel('Username').fill(lab.credentials.username);
    await dialog.getByLabel('Password', { exact: true }).fill('not-the-password');
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await shows(card.getByRole('status'), 'Failed: the server rejected your credentials.', 30_000);
    await shows(card.getByRole('status'), 'Check your username, password or one-time code and connect again.');
    expect(await heightOf('Office Lab')).toBe(idleHeight);
    await ui.screenshot('07-failed');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
  });

  it('keeps a per-session log without the password', async () => {
    await ui.page.getByRole('button', { name: 'Logs' }).click();
    const sessions = ui.page.getByRole('article');
    await visible(sessions.first());
    expect(await sessions.count()).toBeGreaterThanOrEqual(2);
    const text = (await ui.page.locator('pre.log').allTextContents()).join('\n');
    expect(text).not.toContain(lab.credentials.password);
    await ui.screenshot('08-logs');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
    await ui.page.getByRole('button', { name: 'Connections' }).click();
  });

  it('remembers the password in the keyring when asked, and forgets it', async () => {
    const c = card(ui, 'Office Lab');
    await c.getByRole('button', { name: 'Connect Office Lab' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Sign in to Office Lab' });
    await visible(dialog, 30_000);
    await dialog.getByLabel('Username').fill(lab.credentials.username);
    await dialog.getByLabel('Password', { exact: true }).fill(lab.credentials.password);
    await dialog.getByLabel('Remember my password in the system keyring').check();
    await dialog.getByRole('button', { name: 'Continue' }).click();
    await shows(c.getByRole('status'), /Connected since/, 30_000);
    await acknowledgeBanner(ui);
    await c.getByRole('button', { name: 'Disconnect Office Lab' }).click();
    await shows(c.getByRole('status'), 'Not connected', 20_000);

    // Saved in the real keyring: the next connection asks nothing.
    await c.getByRole('button', { name: 'Connect Office Lab' }).click();
    await shows(c.getByRole('status'), /Connected since/, 30_000);
    expect(await ui.page.getByRole('dialog').count()).toBe(0);
    await acknowledgeBanner(ui);
    await c.getByRole('button', { name: 'Details' }).click();
    await shows(c, 'Saved in the system keyring');
    await c.getByRole('button', { name: 'Forget it' }).click();
    await shows(c.locator('dl.details'), 'Saved passwordNone');
    await c.getByRole('button', { name: 'Hide details' }).click();
    await c.getByRole('button', { name: 'Disconnect Office Lab' }).click();
    await shows(c.getByRole('status'), 'Not connected', 20_000);
  });

  it('imports a dropped profile and a PKCS#12 certificate, attaches it and connects with it', async () => {
    // Drop the profile on the window, as from a file manager.
    const text = profileText(lab, certServer, 'certificate-missing');
    await dropFile(ui.page, '.app', 'Cert Lab.ovpn', text);
    await shows(ui.page.getByRole('status', { name: 'Import result' }), 'Imported “Cert Lab”');
    await visible(card(ui, 'Cert Lab'));

    // The user's certificate as their IT department sends it: a password-protected PKCS#12 file.
    const p12Password = randomBytes(9).toString('base64url');
    recordSecret(p12Password);
    const p12 = join(work, 'alice.p12');
    await run('openssl', ['pkcs12', '-export', '-in', lab.pki.clientEc.certPath, '-inkey', lab.pki.clientEc.keyPath, '-out', p12, '-passout', `pass:${p12Password}`]);

    await ui.page.getByRole('button', { name: 'Certificates' }).click();
    await ui.page.getByLabel('PKCS#12 file (.p12 or .pfx)').setInputFiles(p12);
    await ui.page.getByLabel('File password').fill(p12Password);
    await ui.page.getByRole('button', { name: 'Import certificate' }).click();
    await shows(ui.page.getByRole('status').filter({ hasText: 'Imported' }), 'Imported “alice”.');
    const cert = ui.page.getByRole('article', { name: 'alice' });
    await shows(cert, 'EC P-256');
    await cert.getByLabel('Attach to').selectOption({ label: 'Cert Lab' });
    await cert.getByRole('button', { name: 'Attach' }).click();
    await shows(cert, 'Used byCert Lab');
    await ui.screenshot('09-certificates');
    expect(await accessibilityViolations(ui.page)).toEqual([]);

    await ui.page.getByRole('button', { name: 'Connections' }).click();
    const c = card(ui, 'Cert Lab');
    await shows(c, 'Certificate');
    await c.getByRole('button', { name: 'Connect Cert Lab' }).click();
    await shows(c.getByRole('status'), /Connected since/, 30_000);
    await visible(c.getByText(new RegExp(`^${certServer.info.subnetPrefix.replace(/\./g, '\\.')}\\.\\d+$`)));
    await ui.page.getByRole('button', { name: 'Dismiss' }).click();
    await ui.page.emulateMedia({ colorScheme: 'dark' });
    await ui.screenshot('10-connected-dark');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
    await ui.page.emulateMedia({ colorScheme: 'light' });

    // The server goes away under the user: the app says it is reconnecting, and is connected
    // again once the server is back.
    const before = shown.length;
    await certServer.stop();
    await shows(c.getByRole('status'), 'Reconnecting…', 30_000);
    expect(await heightOf('Cert Lab')).toBe(idleHeight);
    await ui.screenshot('11-reconnecting');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
    await certServer.restart();
    await shows(c.getByRole('status'), /Connected since/, 60_000);
    expect(shown.slice(before).map((e) => e.view.phase).at(-1)).toBe('connected');
    await c.getByRole('button', { name: 'Disconnect Cert Lab' }).click();
    await shows(c.getByRole('status'), 'Not connected', 20_000);
  });

  it('sets up single sign-on in a profile’s details, stores it with the profile, and removes it', async () => {
    const c = card(ui, 'Office Lab');
    const id = core.profiles.resolve('Office Lab').id;
    const storedOidc = () => (JSON.parse(readFileSync(join(work, 'config', 'profiles', `${id}.json`), 'utf8')) as { oidc?: unknown }).oidc;
    await c.getByRole('button', { name: 'Details' }).click();
    const form = c.getByRole('form', { name: 'Single sign-on (OpenID Connect)' });
    await visible(form);

    // A plain-http issuer elsewhere than this computer is refused, in words next to the fields.
    await form.getByLabel('Issuer URL').fill('http://login.example.com/realms/staff');
    await form.getByLabel('Client id').fill('causeway-desktop');
    await form.getByRole('button', { name: 'Save single sign-on' }).click();
    await shows(form.getByRole('alert'), 'The OIDC issuer must be an https URL (http is allowed only on this computer).');
    expect(storedOidc()).toBeUndefined();

    // Corrected from the keyboard: fix the issuer, tab to scopes and the claim, Enter saves.
    await form.getByLabel('Issuer URL').fill('https://login.example.com/realms/staff');
    await form.getByLabel('Scopes').focus();
    await ui.page.keyboard.type('email offline_access');
    await ui.page.keyboard.press('Tab');
    await ui.page.keyboard.type('preferred_username');
    await ui.page.keyboard.press('Enter');
    await shows(form.getByRole('status'), 'Single sign-on saved.');
    expect(await form.getByRole('alert').count()).toBe(0);
    expect(storedOidc()).toEqual({
      issuer: 'https://login.example.com/realms/staff',
      clientId: 'causeway-desktop',
      scopes: ['openid', 'email', 'offline_access'],
      usernameClaim: 'preferred_username',
      token: 'id_token',
    });

    // Opened again, the details read the stored profile.
    await c.getByRole('button', { name: 'Hide details' }).click();
    await c.getByRole('button', { name: 'Details' }).click();
    await shows(c.locator('dl.details'), 'Single sign-onhttps://login.example.com/realms/staff (client causeway-desktop)');
    expect(await form.getByLabel('Scopes').inputValue()).toBe('openid email offline_access');
    await form.scrollIntoViewIfNeeded();
    await ui.screenshot('13-single-sign-on');
    expect(await accessibilityViolations(ui.page)).toEqual([]);

    await form.getByRole('button', { name: 'Remove single sign-on' }).click();
    await shows(form.getByRole('status'), 'Single sign-on removed.');
    expect(storedOidc()).toBeNull();
    await shows(c.locator('dl.details'), 'Single sign-onNot set up');
    await c.getByRole('button', { name: 'Hide details' }).click();
  });

  it('turns on a profile’s kill switch in its details; its next connection gets the helper’s firewall', async () => {
    const c = card(ui, 'Cert Lab');
    const id = core.profiles.resolve('Cert Lab').id;
    const stored = () => JSON.parse(readFileSync(join(work, 'config', 'profiles', `${id}.json`), 'utf8')) as { killSwitch: boolean; allowLan: boolean };
    const firewall = async () => (await lab.inClient('nft', ['list', 'tables'])).stdout.split('\n').filter((l) => l.includes('causeway_'));
    expect(stored()).toMatchObject({ killSwitch: false, allowLan: true });
    await c.getByRole('button', { name: 'Details' }).click();
    const group = c.getByRole('group', { name: 'Leak protection' });
    await visible(group);
    await shows(c.locator('dl.details'), 'Kill switchOff');
    // From the keyboard: focus the box, Space ticks it.
    await group.getByLabel(/^Kill switch/).focus();
    await ui.page.keyboard.press('Space');
    await shows(c.locator('dl.details'), 'Kill switchOn');
    expect(stored()).toMatchObject({ killSwitch: true, allowLan: true });
    await group.scrollIntoViewIfNeeded();
    await ui.screenshot('14-kill-switch');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
    await c.getByRole('button', { name: 'Hide details' }).click();

    expect(await firewall()).toEqual([]);
    await c.getByRole('button', { name: 'Connect Cert Lab' }).click();
    await shows(c.getByRole('status'), /Connected since/, 30_000);
    expect(await firewall()).toHaveLength(1);
    await c.getByRole('button', { name: 'Disconnect Cert Lab' }).click();
    await shows(c.getByRole('status'), 'Not connected', 20_000);
    expect(await firewall()).toEqual([]);

    // Off again, as it was.
    await c.getByRole('button', { name: 'Details' }).click();
    await group.getByLabel(/^Kill switch/).uncheck();
    await shows(c.locator('dl.details'), 'Kill switchOff');
    expect(stored()).toMatchObject({ killSwitch: false });
    await c.getByRole('button', { name: 'Hide details' }).click();
  });

  it('imports a profile whose key is locked: asks for the passphrase, again after a wrong one, and connects with the unlocked key', async () => {
    // The key as `openssl pkcs8 -topk8` (and easy-rsa 3) writes it: PKCS#8, PBES2 with AES-256.
    const passphrase = randomBytes(12).toString('base64url');
    const wrong = randomBytes(12).toString('base64url');
    recordSecret(passphrase, wrong);
    const locked = (await run('openssl', ['pkcs8', '-topk8', '-in', lab.pki.clientRsa.keyPath, '-passout', `pass:${passphrase}`])).stdout;
    expect(locked).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const file = join(work, 'Locked Lab.ovpn');
    writeFileSync(file, `${profileText(lab, certServer, 'certificate-missing')}<cert>\n${lab.pki.clientRsa.cert.trim()}\n</cert>\n<key>\n${locked.trim()}\n</key>\n`);

    const chooser = ui.page.waitForEvent('filechooser');
    await ui.page.getByRole('button', { name: 'Import profile…' }).click();
    await (await chooser).setFiles(file);
    const dialog = ui.page.getByRole('dialog', { name: 'Unlock the private key' });
    await visible(dialog);
    await shows(dialog, 'The private key in Locked Lab is protected by a passphrase.');
    const field = dialog.getByLabel('Passphrase');
    expect(await field.getAttribute('type')).toBe('password');
    expect(await field.evaluate((el) => el.matches(':focus'))).toBe(true);
    expect(await accessibilityViolations(ui.page)).toEqual([]);
    // From the keyboard: type, Enter. A wrong passphrase is said so, and asked again.
    await ui.page.keyboard.type(wrong);
    await ui.page.keyboard.press('Enter');
    await shows(dialog.getByRole('alert'), 'That passphrase did not unlock the key. Try again.');
    expect(await field.inputValue()).toBe('');
    expect(await field.evaluate((el) => el.matches(':focus'))).toBe(true);
    expect(core.profiles.list().profiles.map((p) => p.name)).not.toContain('Locked Lab');
    await ui.page.keyboard.type(passphrase);
    // While typed, the dialog's state holds it (the heap search below can see a secret)…
    expect(await heapHolds(ui.page, passphrase)).toBe(true);
    await ui.screenshot('15-key-passphrase');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
    await ui.page.keyboard.press('Enter');
    await hidden(dialog);
    await shows(ui.page.getByRole('status', { name: 'Import result' }), 'Imported “Locked Lab”');
    // …and once closed, the dialog took it along: the renderer holds neither answer anywhere.
    expect(await heapHolds(ui.page, passphrase)).toBe(false);
    expect(await heapHolds(ui.page, wrong)).toBe(false);

    // Listed, and its details open.
    const c = card(ui, 'Locked Lab');
    await shows(c, 'Certificate');
    await c.getByRole('button', { name: 'Details' }).click();
    await shows(c.locator('dl.details'), `${certServer.info.address}:${certServer.info.port} (TCP)`);
    await c.getByRole('button', { name: 'Hide details' }).click();

    // What the secret store keeps is the unlocked key, as `causeway import` stores it.
    const profile = core.profiles.resolve('Locked Lab');
    const unlocked = createPrivateKey(lab.pki.clientRsa.key).export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await core.secrets.get(keyAccount(profile.id))).toBe(unlocked);
    await c.getByRole('button', { name: 'Connect Locked Lab' }).click();
    await shows(c.getByRole('status'), /Connected since/, 30_000);
    await c.getByRole('button', { name: 'Disconnect Locked Lab' }).click();
    await shows(c.getByRole('status'), 'Not connected', 20_000);

    // The passphrases are nowhere: not in the page (the dialog's state died with it), the stored
    // profile or the logs. recordSecret above makes the secret scan check every output too.
    const page = await ui.page.content();
    const inputs = await Promise.all((await ui.page.locator('input').all()).map((input) => input.inputValue()));
    const stored = readFileSync(join(work, 'config', 'profiles', `${profile.id}.json`), 'utf8');
    const logs = readdirSync('test-results/e2e-logs', { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
    expect(logs.length).toBeGreaterThan(0);
    for (const text of [page, ...inputs, stored, ...logs]) {
      expect(text).not.toContain(passphrase);
      expect(text).not.toContain(wrong);
    }
  });

  it('imports nothing when the passphrase dialog is cancelled', async () => {
    const before = readdirSync(join(work, 'config', 'profiles')).sort();
    const chooser = ui.page.waitForEvent('filechooser');
    await ui.page.getByRole('button', { name: 'Import profile…' }).click();
    const again = join(work, 'Locked Again.ovpn');
    writeFileSync(again, readFileSync(join(work, 'Locked Lab.ovpn')));
    await (await chooser).setFiles(again);
    const dialog = ui.page.getByRole('dialog', { name: 'Unlock the private key' });
    await visible(dialog);
    await ui.page.keyboard.type('typed, then cancelled');
    await ui.page.keyboard.press('Escape');
    await hidden(dialog);
    const result = ui.page.getByRole('status', { name: 'Import result' });
    await shows(result, 'Did not import Locked Again.ovpn');
    await shows(result, 'Import the file again when you have the passphrase');
    await shows(result, 'No passphrase was given for the encrypted key; nothing was imported');
    expect(await card(ui, 'Locked Again').count()).toBe(0);
    expect(core.profiles.list().profiles.map((p) => p.name)).not.toContain('Locked Again');
    expect(readdirSync(join(work, 'config', 'profiles')).sort()).toEqual(before);
    await result.getByRole('button', { name: 'Dismiss' }).click();
  });

  it('keeps the desktop settings the user chooses', async () => {
    await ui.page.getByRole('button', { name: 'Settings' }).click();
    await ui.page.getByLabel('Start minimized to the tray').check();
    await ui.page.getByLabel('Connect when Causeway starts').selectOption({ label: 'Office Lab' });
    await expect
      .poll(() => JSON.parse(readFileSync(join(work, 'config', 'desktop-settings.json'), 'utf8')) as unknown)
      .toMatchObject({ startMinimized: true, notifications: true, connectOnStartup: expect.stringMatching(/^office-lab/) });
    // What new profiles start with is kept where the CLI's import reads it too.
    const newProfiles = ui.page.getByRole('group', { name: 'New profiles' });
    await newProfiles.getByLabel(/^Kill switch/).check();
    await expect.poll(() => core.profiles.newProfileLeakProtection()).toEqual({ killSwitch: true, allowLan: true });
    await newProfiles.getByLabel(/^Allow the local network/).uncheck();
    await expect.poll(() => core.profiles.newProfileLeakProtection()).toEqual({ killSwitch: true, allowLan: false });
    await shows(ui.page.locator('main'), 'Passwords and keys are kept in the system keyring (Secret Service).');
    await ui.screenshot('12-settings');
    expect(await accessibilityViolations(ui.page)).toEqual([]);
    await ui.page.getByRole('button', { name: 'Connections' }).click();
  });

  it('ran without console errors or CSP violations', () => {
    expect(ui.errors).toEqual([]);
  });
});
