// Settles a profile's proxy once every directive has been seen: which credentials it uses (an
// auth file, or a <http-proxy-user-pass> block that may come anywhere in the file), the
// http-proxy-option lines, and which remotes it can reach (an HTTP proxy carries TCP alone; a
// SOCKS5 proxy carries both, UDP through its UDP ASSOCIATE relay).
import type { Draft } from './draft.js';
import type { ProfileIssue } from './errors.js';
import type { ProfileProxy, Remote } from './model.js';

export interface ProxyVerdict {
  proxy: ProfileProxy | null;
  /** The remotes the profile can use (UDP ones left out behind an HTTP proxy). */
  remotes: Remote[];
  warnings: ProfileIssue[];
  errors: ProfileIssue[];
}

/** Leaves the credentials the proxy will use in `d.proxyCredentials` (null when it uses none). */
export function settleProxy(d: Draft, remotes: Remote[]): ProxyVerdict {
  const warnings: ProfileIssue[] = [];
  const errors: ProfileIssue[] = [];
  const warn = (line: number | null, directive: string | null, message: string) => warnings.push({ line, directive, message });
  const p = d.proxy;
  const ignoredBlock = (why: string) => {
    if (d.inlineProxyCredentials) warn(null, 'http-proxy-user-pass', `the <http-proxy-user-pass> block is ignored: ${why}`);
  };
  if (p === null || p.kind !== 'http') {
    const why = p === null ? 'the profile has no http-proxy' : 'it applies to http-proxy only, not socks-proxy';
    for (const o of d.httpProxyOptions) warn(o.line, 'http-proxy-option', `http-proxy-option is ignored: ${why}`);
    ignoredBlock(why);
  }
  if (p === null) {
    d.proxyCredentials = null;
    return { proxy: null, remotes, warnings, errors };
  }

  const proxy: ProfileProxy = { kind: p.kind, host: p.host, port: p.port, hasCredentials: false, askCredentials: false, httpVersion: '1.0', userAgent: null, customHeaders: [] };
  if (p.kind === 'http') {
    for (const o of d.httpProxyOptions) {
      if (o.version) proxy.httpVersion = o.version;
      if (o.userAgent !== null) proxy.userAgent = o.userAgent;
      if (o.header) proxy.customHeaders.push(o.header);
    }
    const auth = d.proxyAuth;
    if (auth === null) {
      ignoredBlock('http-proxy names no authentication (write `http-proxy host port auto` to use it)');
    } else if (auth.fromBlock) {
      d.proxyCredentials = d.inlineProxyCredentials;
      if (d.proxyCredentials === null && !auth.ask) {
        errors.push({ line: p.line, directive: p.directive, message: 'http-proxy says [inline] but there is no <http-proxy-user-pass> block' });
      }
    } else if (d.inlineProxyCredentials) {
      // As in OpenVPN 2.6, the block overrides the auth file.
      d.proxyCredentials = d.inlineProxyCredentials;
    }
  }
  if (d.proxyAuth === null) d.proxyCredentials = null;
  proxy.hasCredentials = d.proxyCredentials !== null;
  proxy.askCredentials = !proxy.hasCredentials && d.proxyAuth?.ask === true;

  if (p.kind === 'socks5') return { proxy, remotes, warnings, errors };
  const why = 'an HTTP proxy carries TCP only';
  const tcp = remotes.filter((r) => r.proto === 'tcp');
  if (tcp.length === 0) {
    errors.push({
      line: p.line,
      directive: p.directive,
      message: `every remote of this profile is UDP, and ${why}: use a TCP remote (proto tcp, or remote <host> <port> tcp), a socks-proxy, or remove ${p.directive}`,
    });
  } else {
    for (const r of remotes.filter((x) => x.proto !== 'tcp')) {
      warn(p.line, p.directive, `remote ${r.host} ${r.port} udp is left out: ${why}`);
    }
  }
  return { proxy, remotes: tcp, warnings, errors };
}
