// Drives the real renderer build in Debian's Chromium with `window.causeway` wired to a real
// dispatcher in this process: the same schema, validation and sender check as in Electron, over a
// Playwright binding instead of Electron IPC. Collects console errors (CSP violations show up
// there) so a test can assert the page ran clean.
import { build } from 'esbuild';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../peers/sso-common/chromium';
import type { Dispatcher, EventSink } from '../../../app/ipc/handlers';
import { eventChannel } from '../../../app/ipc/schema';
import type { PageGlobals } from './page-bridge';
import { serveRenderer, type StaticServer } from './static-server';

export const rendererRoot = join(process.cwd(), 'dist/renderer');
export const screenshotDir = join(process.cwd(), 'test-results/screenshots');

export interface Ui {
  page: Page;
  /** Pushes events to the page, as main does to its window. */
  sink: EventSink;
  /** Console errors and page errors seen so far. */
  errors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

function decode(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.__bytes === 'string' && Object.keys(o).length === 1) return new Uint8Array(Buffer.from(o.__bytes, 'base64'));
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decode(v)]));
  }
  return value;
}

async function pageBridgeScript(): Promise<string> {
  const out = await build({
    entryPoints: [join(import.meta.dirname, 'page-bridge.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

export async function openUi(dispatcher: Dispatcher, opts: { colorScheme?: 'light' | 'dark' } = {}): Promise<Ui> {
  if (!existsSync(join(rendererRoot, 'index.html'))) throw new Error('dist/renderer is missing: run `node scripts/build.mjs` first');
  mkdirSync(screenshotDir, { recursive: true });
  let server: StaticServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await serveRenderer(rendererRoot);
    const origin = server.origin;
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 900, height: 860 }, colorScheme: opts.colorScheme ?? 'light', reducedMotion: 'reduce' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));

    await page.exposeBinding('__causewayInvoke', async (source, channel: unknown, args: unknown) => {
      // The same rule as main/electron/ipc.ts: only our own page's top frame may call.
      if (source.frame !== page.mainFrame() || new URL(source.frame.url()).origin !== origin) {
        return { ok: false, error: { code: 'untrusted-sender', message: 'Request refused.' } };
      }
      if (typeof channel !== 'string' || !channel.startsWith('causeway:call:')) return { ok: false, error: { code: 'unknown-call', message: 'Unknown request.' } };
      return dispatcher.dispatch(channel.slice('causeway:call:'.length), decode(args));
    });
    await page.addInitScript({ content: await pageBridgeScript() });

    const sink: EventSink = (event, payload) => {
      page
        .evaluate(([c, p]) => (globalThis as unknown as PageGlobals).__causewayDeliver(c as string, p), [eventChannel(event), payload] as const).catch(() => {
        // the page is closing; main's sink ignores closed windows the same way
      });
    };
    await page.goto(`${origin}/index.html`);
    const srv = server;
    const br = browser;
    return {
      page,
      sink,
      errors,
      async screenshot(name) {
        const path = join(screenshotDir, `${name}.png`);
        // The viewport, as the user sees it (dialogs are fixed to it).
        await page.screenshot({ path });
        return path;
      },
      async close() {
        await br.close();
        await srv.close();
      },
    };
  } catch (err) {
    await browser?.close();
    await server?.close();
    throw err;
  }
}
