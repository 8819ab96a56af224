// The simulated user: Debian's chromium driven by playwright-core (no browser download). Tests
// hand the app a BrowserOpener that opens each URL in a fresh page, and a script that acts on it.
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/** What the user does once the app opened a URL. */
export type UserScript = (page: Page, url: string) => Promise<void>;

export interface ChromiumUser {
  open(url: string): Promise<void>;
  /** Every URL the app asked to open, in order. */
  readonly opened: string[];
  /** Failures of the user scripts (e.g. a login form that never appeared). */
  readonly errors: Error[];
  /** Resolves when every started script has finished. */
  settled(): Promise<void>;
}

/** A BrowserOpener backed by Chromium: each URL opens a new tab in its own context, then `script` runs. */
export function chromiumUser(browser: Browser, script: UserScript): ChromiumUser {
  const opened: string[] = [];
  const errors: Error[] = [];
  const running: Promise<void>[] = [];
  return {
    opened,
    errors,
    async open(url: string) {
      opened.push(url);
      running.push(
        (async () => {
          const context = await browser.newContext();
          try {
            const page = await context.newPage();
            await page.goto(url);
            await script(page, url);
          } catch (e) {
            errors.push(e as Error);
          } finally {
            await context.close().catch(() => undefined);
          }
        })(),
      );
    },
    async settled() {
      await Promise.all(running);
    },
  };
}

/**
 * SimpleSAMLphp's login form. Resolves once the IdP's auto-submitting form has reached the ACS
 * on port 35001, or the IdP showed its "incorrect username or password" error instead.
 */
export async function samlLogin(page: Page, username: string, password: string): Promise<'posted' | 'refused'> {
  await page.waitForSelector('input[name=username]', { timeout: 15_000 });
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit], input[type=submit]');
  return Promise.race([
    page.waitForURL((u) => u.port === '35001', { timeout: 30_000, waitUntil: 'load' }).then(() => 'posted' as const),
    // Debian's 1.19 templates mark a failed login with an error icon (twig themes: .message-box.error).
    page.waitForSelector('img.erroricon, .message-box.error', { timeout: 30_000 }).then(() => 'refused' as const),
  ]);
}

/** oidc-provider's devInteractions: sign in as `login`, then confirm consent if asked. */
export async function oidcLogin(page: Page, login: string): Promise<void> {
  await page.waitForSelector('input[name=login]', { timeout: 15_000 });
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any-password');
  await page.click('button[type=submit]');
  await page.waitForLoadState('load');
  if (await page.locator('input[name=prompt][value=consent]').count()) await page.click('button[type=submit]');
}
