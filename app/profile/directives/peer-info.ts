// Peer info sent to the server (push-peer-info, setenv IV_*), and `setenv opt X`, which
// applies X as if it stood alone.
import { ProfileError } from '../errors.js';
import type { Directive } from '../lexer.js';
import type { Handler } from './handler.js';

export const peerInfoHandlers: Record<string, Handler> = {
  'push-peer-info'(dir) {
    this.args(dir, 0, 0);
    this.d.pushPeerInfo = true;
  },
  setenv(dir, block) {
    const args = this.args(dir, 1, 16);
    if (args[0] === 'opt') {
      // "setenv opt X": X is an option that older clients may ignore; apply it if understood.
      if (args.length < 2) throw new ProfileError('setenv opt needs an option', dir.line, dir.name);
      const inner: Directive = { name: args[1]!.replace(/^--/, ''), args: args.slice(2), line: dir.line, inline: null, block: null };
      return this.apply(inner, block);
    }
    const [name, value] = args;
    if (/^IV_[A-Z0-9_]+$/.test(name!) && args.length <= 2) {
      this.d.peerInfo[name!] = value ?? '';
      return;
    }
    this.warn(dir, `setenv ${name} was removed: it sets a variable for scripts; only IV_ peer-info variables are kept`);
  },
};
