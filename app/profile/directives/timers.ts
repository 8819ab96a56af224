// Timers, MTU and compression framing (Causeway never compresses).
import { ProfileError } from '../errors.js';
import type { Handler } from './handler.js';

export const timerHandlers: Record<string, Handler> = {
  'comp-lzo'(dir) {
    const [mode] = this.args(dir, 0, 1);
    if (mode !== undefined && !['yes', 'no', 'adaptive'].includes(mode)) {
      throw new ProfileError(`comp-lzo must be yes, no or adaptive, not "${mode}"`, dir.line, dir.name);
    }
    this.d.compression = 'comp-lzo-no';
    if (mode !== 'no') this.warn(dir, 'compression is never used (it can leak data, see VORACLE); packets are framed as the server expects but sent uncompressed');
  },
  compress(dir) {
    const [algo] = this.args(dir, 0, 1);
    const a = algo ?? 'stub';
    if (a === 'stub' || a === 'lz4') this.d.compression = 'compress-stub';
    else if (a === 'stub-v2' || a === 'lz4-v2') this.d.compression = 'compress-stub-v2';
    else if (a === 'lzo') this.d.compression = 'comp-lzo-no';
    else throw new ProfileError(`compress: unknown algorithm "${a}"`, dir.line, dir.name);
    if (!a.startsWith('stub')) this.warn(dir, 'compression is never used (it can leak data, see VORACLE); packets are framed as the server expects but sent uncompressed');
  },
  keepalive(dir) {
    const [i, t] = this.args(dir, 2, 2);
    this.d.ping = this.int(dir, i, 1, 86400);
    this.d.pingRestart = this.int(dir, t, 1, 86400);
  },
  ping(dir) {
    this.d.ping = this.int(dir, this.args(dir, 1, 1)[0], 1, 86400);
  },
  'ping-restart'(dir) {
    this.d.pingRestart = this.int(dir, this.args(dir, 1, 1)[0], 0, 86400) || null;
  },
  inactive(dir) {
    const [n] = this.args(dir, 1, 2);
    this.d.inactiveSec = this.int(dir, n, 0, 365 * 86400) || null;
  },
  'tun-mtu'(dir) {
    this.d.tunMtu = this.int(dir, this.args(dir, 1, 2)[0], 576, 65535);
  },
  mssfix(dir) {
    const [n, keyword] = this.args(dir, 0, 2);
    if (keyword !== undefined && keyword !== 'mtu' && keyword !== 'fixed') {
      throw new ProfileError(`mssfix: the second word must be mtu or fixed, not "${keyword}"`, dir.line, dir.name);
    }
    // A bare `mssfix` means OpenVPN's default; a number alone limits the UDP payload (2.5's meaning).
    this.d.mssFix = n === undefined ? null : { max: this.int(dir, n, 0, 65535), mode: keyword ?? 'payload' };
  },
};
