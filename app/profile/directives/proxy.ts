// Proxy directives: http-proxy (HTTP CONNECT, Basic auth), http-proxy-option, socks-proxy
// (SOCKS5), and the proxy's username/password (`<http-proxy-user-pass>` or an auth file next to
// the profile; `stdin`, and `auto` without a block, ask for them when connecting). The credentials are a secret: they stay in the draft's proxyCredentials and go to
// the SecretStore, never into the settings. What depends on the whole profile (which block holds
// the credentials, UDP remotes) is settled by ../proxy.ts when finishing.
import { ProfileError } from '../errors.js';
import type { Directive } from '../lexer.js';
import type { Normalizer } from '../normalizer.js';
import type { Handler } from './handler.js';
import { checkHost } from './transport.js';

type Credentials = { username: string; password: string };

/** Two lines, username then password, as OpenVPN's auth files and `<http-proxy-user-pass>`. */
function parseCredentials(dir: Directive, text: string, what: string): Credentials {
  const [username, password] = text.replace(/\r/g, '').split('\n');
  if (!username || !password) {
    throw new ProfileError(`${what} must hold two lines: the proxy username, then its password`, dir.line, dir.name);
  }
  return { username, password };
}

function authFile(n: Normalizer, dir: Directive, ref: string): Credentials {
  const data = n.referencedFile(dir, ref, '<http-proxy-user-pass>');
  const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
  return parseCredentials(dir, text, `the proxy auth file "${ref}"`);
}

function setProxy(n: Normalizer, dir: Directive, kind: 'http' | 'socks5', host: string, port: number): void {
  const prev = n.d.proxy;
  if (prev && (prev.kind !== kind || prev.host !== host || prev.port !== port)) {
    throw new ProfileError(`only one proxy per profile is supported; line ${prev.line} already names ${prev.directive} ${prev.host} ${prev.port}`, dir.line, dir.name);
  }
  n.d.proxy = { kind, host, port, httpVersion: '1.0', userAgent: null, customHeaders: [], line: dir.line, directive: dir.name };
}

export const proxyHandlers: Record<string, Handler> = {
  'http-proxy'(dir) {
    const [host, port, auth, method] = this.args(dir, 2, 4);
    setProxy(this, dir, 'http', checkHost(dir, host!), this.int(dir, port, 1, 65535));
    const m = method?.toLowerCase();
    if (m === 'ntlm' || m === 'ntlm2') {
      throw new ProfileError('NTLM proxy authentication is not supported (only Basic is): ask for a proxy account that accepts Basic authentication', dir.line, dir.name);
    }
    if (m !== undefined && m !== 'basic' && m !== 'none') {
      throw new ProfileError(`proxy authentication "${method}" is not supported; Causeway supports basic (or none)`, dir.line, dir.name);
    }
    this.d.proxyAuth = null;
    if (auth === undefined || m === 'none') return;
    const a = auth.toLowerCase();
    if (a === 'auto' || a === 'auto-nct' || a === 'stdin' || a === '[inline]') {
      // From a <http-proxy-user-pass> block (settled when finishing); without one, auto and
      // stdin ask when connecting.
      this.d.proxyAuth = { fromBlock: true, ask: a !== '[inline]' };
      return;
    }
    this.d.proxyCredentials = authFile(this, dir, auth);
    this.d.proxyAuth = { fromBlock: false, ask: false };
  },
  'http-proxy-user-pass'(dir) {
    if (dir.inline === null) {
      // The file form names any path (profiles in the wild point it at ~/.netrc): never read it.
      this.warn(
        dir,
        'http-proxy-user-pass was removed: it reads a file on your computer; put the proxy username and password in a <http-proxy-user-pass> block, or name an auth file next to the profile on the http-proxy line',
      );
      return;
    }
    this.d.inlineProxyCredentials = parseCredentials(dir, dir.inline, 'the <http-proxy-user-pass> block');
  },
  'http-proxy-option'(dir) {
    const [opt, a, b] = this.args(dir, 1, 3);
    const o = opt!.toUpperCase();
    if (o === 'VERSION') {
      if (a !== '1.0' && a !== '1.1') throw new ProfileError(`http-proxy-option VERSION must be 1.0 or 1.1, not "${a ?? ''}"`, dir.line, dir.name);
      this.d.httpProxyOptions.push({ line: dir.line, version: a, userAgent: null, header: null });
    } else if (o === 'AGENT') {
      if (!a || b !== undefined || /[\r\n]/.test(a) || a.length > 1024) {
        throw new ProfileError('http-proxy-option AGENT takes one user-agent text (quote it if it has spaces)', dir.line, dir.name);
      }
      this.d.httpProxyOptions.push({ line: dir.line, version: null, userAgent: a, header: null });
    } else if (o === 'CUSTOM-HEADER') {
      if (!a || !/^[A-Za-z0-9-]{1,128}$/.test(a)) {
        throw new ProfileError('http-proxy-option CUSTOM-HEADER needs a header name of letters, digits and dashes', dir.line, dir.name);
      }
      const value = b ?? '';
      if (/[\r\n]/.test(value) || value.length > 1024) throw new ProfileError(`http-proxy-option CUSTOM-HEADER ${a}: the value is too long or has a line break`, dir.line, dir.name);
      if (/^(host|proxy-authorization|content-length)$/i.test(a)) {
        throw new ProfileError(`http-proxy-option CUSTOM-HEADER ${a} would replace a header Causeway sends itself`, dir.line, dir.name);
      }
      this.d.httpProxyOptions.push({ line: dir.line, version: null, userAgent: null, header: { name: a, value } });
    } else {
      this.warn(dir, `http-proxy-option ${opt} is not supported and was left out (Causeway supports VERSION, AGENT and CUSTOM-HEADER)`);
    }
  },
  'socks-proxy'(dir) {
    const [host, port, auth] = this.args(dir, 1, 3);
    // OpenVPN's default SOCKS port.
    setProxy(this, dir, 'socks5', checkHost(dir, host!), port === undefined ? 1080 : this.int(dir, port, 1, 65535));
    this.d.proxyAuth = null;
    if (auth === undefined) return;
    if (auth.toLowerCase() === 'stdin') {
      this.d.proxyAuth = { fromBlock: false, ask: true };
      return;
    }
    this.d.proxyCredentials = authFile(this, dir, auth);
    this.d.proxyAuth = { fromBlock: false, ask: false };
  },
};
