// Opening login pages in the user's browser. Only https URLs, or plain http to this machine's
// loopback address (local IdPs, RFC 8252 redirect listeners), are ever opened: a server-supplied
// `file:`, `javascript:` or plain-http URL to elsewhere is refused with a clear error.
import { spawn } from 'node:child_process';
import { isIP } from 'node:net';

/** Opens a URL for the user. The CLI uses the system browser, Electron shell.openExternal, tests a driven Chromium. */
export interface BrowserOpener {
  open(url: string): Promise<void>;
}

export class UnsafeUrlError extends Error {
  override name = 'UnsafeUrlError';
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/** Returns the parsed URL when it may be opened; throws UnsafeUrlError (naming only the scheme and host) otherwise. */
export function checkOpenableUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlError('The server asked to open something that is not a web address.');
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  const where = url.protocol === 'http:' ? `http://${url.host}` : url.protocol;
  throw new UnsafeUrlError(
    `Refusing to open ${where} in the browser: only https addresses (or http on this computer) are allowed for sign-in.`,
  );
}

/** Wraps an opener so that every URL passes checkOpenableUrl first. */
export function safeOpener(inner: BrowserOpener): BrowserOpener {
  return { open: async (url) => inner.open(checkOpenableUrl(url).href) };
}

/**
 * The platform's "open this URL" command, detached so the browser outlives nothing of ours.
 * On Linux and macOS the conventional $BROWSER (first of a `:`-separated list, `%s` marking
 * where the URL goes) takes precedence, as xdg-open and other tools do.
 */
export function systemBrowserOpener(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): BrowserOpener {
  const browserVar = platform === 'win32' ? '' : (env.BROWSER ?? '').split(':')[0]?.trim() ?? '';
  return {
    open(url: string) {
      const custom = browserVar.split(/\s+/).filter(Boolean);
      const [cmd, args] = custom.length
        ? [custom[0]!, custom.slice(1).some((a) => a.includes('%s')) ? custom.slice(1).map((a) => a.replace('%s', url)) : [...custom.slice(1), url]]
        : platform === 'darwin'
          ? ['open', [url]]
          : platform === 'win32'
            ? // `start` is a cmd builtin; the empty title keeps a quoted URL from being taken as one.
              ['cmd', ['/c', 'start', '""', url.replace(/[&^|<>]/g, '^$&')]]
            : ['xdg-open', [url]];
      return new Promise<void>((resolve, reject) => {
        const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
        child.once('error', (e) => reject(new Error(`Could not start the browser (${cmd}): ${e.message}`)));
        child.once('spawn', () => {
          child.unref();
          resolve();
        });
      });
    },
  };
}
