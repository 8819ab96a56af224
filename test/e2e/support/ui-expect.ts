// Small waiting assertions over Playwright locators (playwright-core has no `expect`): each
// polls until the page shows what the user should see, or fails with what it showed instead.
import type { Locator } from 'playwright-core';
import { expect } from 'vitest';

const DEFAULT_TIMEOUT = 10_000;

export async function shows(locator: Locator, text: string | RegExp, timeout = DEFAULT_TIMEOUT): Promise<void> {
  const read = async () => ((await locator.count()) ? ((await locator.first().textContent()) ?? '') : '(not on the page)');
  if (typeof text === 'string') await expect.poll(read, { timeout, interval: 100 }).toContain(text);
  else await expect.poll(read, { timeout, interval: 100 }).toMatch(text);
}

export async function visible(locator: Locator, timeout = DEFAULT_TIMEOUT): Promise<void> {
  await locator.first().waitFor({ state: 'visible', timeout });
}

export async function hidden(locator: Locator, timeout = DEFAULT_TIMEOUT): Promise<void> {
  await locator.first().waitFor({ state: 'hidden', timeout });
}
