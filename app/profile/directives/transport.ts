// Transport directives: device, protocol, servers, retries.
import { ProfileError } from '../errors.js';
import type { Directive } from '../lexer.js';
import type { BlockDefaults, Transport } from '../draft.js';
import { isHostname, isIpv6, parseIpv4 } from '../net.js';
import type { Handler } from './handler.js';

/** `udp4`/`tcp4` reach the server over IPv4 only, `udp6`/`tcp6` over IPv6 only; plain `udp`/`tcp` over either. */
function parseProto(dir: Directive, text: string): Transport {
  const p = text.toLowerCase();
  const family = p.includes('4') ? 'ipv4' : p.includes('6') ? 'ipv6' : 'any';
  if (p === 'udp' || p === 'udp4' || p === 'udp6') return { proto: 'udp', family };
  if (['tcp', 'tcp-client', 'tcp4', 'tcp6', 'tcp4-client', 'tcp6-client'].includes(p)) return { proto: 'tcp', family };
  if (p.startsWith('tcp') && p.endsWith('server')) {
    throw new ProfileError(`proto ${text} is a server mode: this is not a client profile`, dir.line, dir.name);
  }
  throw new ProfileError(`"${text}" is not a protocol (use udp or tcp)`, dir.line, dir.name);
}

export function checkHost(dir: Directive, host: string): string {
  if (parseIpv4(host) !== null || isIpv6(host) || isHostname(host)) return host;
  throw new ProfileError(`"${host}" is not a valid server name or address`, dir.line, dir.name);
}

export const transportHandlers: Record<string, Handler> = {
  dev(dir) {
    const [dev] = this.args(dir, 1, 1);
    if (/^tap/i.test(dev!)) throw new ProfileError('dev tap (layer-2 bridging) is not supported; Causeway creates tun devices', dir.line, dir.name);
    if (!/^tun\d*$/i.test(dev!)) throw new ProfileError(`dev ${dev} is not supported; use dev tun`, dir.line, dir.name);
  },
  'dev-type'(dir) {
    const [t] = this.args(dir, 1, 1);
    if (t !== 'tun') throw new ProfileError(`dev-type ${t} is not supported; Causeway creates tun devices`, dir.line, dir.name);
  },
  mode(dir) {
    const [m] = this.args(dir, 1, 1);
    if (m !== 'p2p') throw new ProfileError(`mode ${m} is a server mode: this is not a client profile`, dir.line, dir.name);
  },
  proto(dir, block) {
    const [p] = this.args(dir, 1, 1);
    const proto = parseProto(dir, p!);
    if (block) block.proto = proto;
    else this.d.defaultProto = proto;
  },
  port(dir, block) {
    const [p] = this.args(dir, 1, 1);
    const port = this.int(dir, p, 1, 65535);
    if (block) block.port = port;
    else this.d.defaultPort = port;
  },
  rport(dir, block) {
    transportHandlers.port!.call(this, dir, block);
  },
  remote(dir, block) {
    const [host, port, proto] = this.args(dir, 1, 3);
    this.d.remotes.push({
      host: checkHost(dir, host!),
      port: port === undefined ? null : this.int(dir, port, 1, 65535),
      proto: proto === undefined ? null : parseProto(dir, proto),
      line: dir.line,
      inBlock: block !== null,
      blockPort: block?.port ?? null,
      blockProto: block?.proto ?? null,
    });
  },
  connection(dir) {
    const block: BlockDefaults = { port: null, proto: null };
    // Port and proto in a block apply to the block's remotes wherever they appear in it.
    for (const inner of dir.block ?? []) {
      if (inner.name === 'port' || inner.name === 'rport' || inner.name === 'proto') this.apply(inner, block);
    }
    const firstRemote = this.d.remotes.length;
    for (const inner of dir.block ?? []) {
      if (inner.name === 'port' || inner.name === 'rport' || inner.name === 'proto') continue;
      this.apply(inner, block);
    }
    for (const r of this.d.remotes.slice(firstRemote)) {
      r.blockPort = block.port;
      r.blockProto = block.proto;
    }
    if (this.d.remotes.length === firstRemote) this.warn(dir, 'this <connection> block has no remote and adds no server');
  },
  'remote-random'(dir) {
    this.args(dir, 0, 0);
    this.d.remoteRandom = true;
  },
  'remote-random-hostname'(dir) {
    this.args(dir, 0, 0);
    this.d.remoteRandomHostname = true;
  },
  'connect-retry'(dir) {
    const [a, b] = this.args(dir, 1, 2);
    const initialSec = this.int(dir, a, 0, 86400);
    const maxSec = b === undefined ? Math.max(300, initialSec) : this.int(dir, b, initialSec, 86400);
    this.d.connectRetry = { initialSec, maxSec };
  },
  'connect-retry-max'(dir) {
    const [a] = this.args(dir, 1, 1);
    this.d.connectRetryMax = this.int(dir, a, 1, 1_000_000);
  },
  'hand-window'(dir) {
    this.d.handshakeWindowSec = this.int(dir, this.args(dir, 1, 1)[0], 5, 3600);
  },
  'connect-timeout'(dir) {
    this.d.connectTimeoutSec = this.int(dir, this.args(dir, 1, 1)[0], 1, 3600);
  },
  'server-poll-timeout'(dir) {
    transportHandlers['connect-timeout']!.call(this, dir, null);
  },
  'explicit-exit-notify'(dir) {
    const [n] = this.args(dir, 0, 1);
    this.d.explicitExitNotify = n === undefined ? 1 : this.int(dir, n, 0, 10);
  },
};
