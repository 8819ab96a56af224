// Authentication directives: auth-user-pass (never reading a credentials file), static
// challenges, AWS federation.
import { ProfileError } from '../errors.js';
import type { Handler } from './handler.js';

export const authHandlers: Record<string, Handler> = {
  'auth-user-pass'(dir) {
    this.d.userPass = true;
    if (dir.inline !== null) {
      const [user, pass] = dir.inline.split('\n');
      if (!user) throw new ProfileError('the <auth-user-pass> block has no username line', dir.line, dir.name);
      this.d.username = user;
      this.d.password = pass ? pass : null;
      return;
    }
    const [file] = this.args(dir, 0, 1);
    if (file !== undefined) {
      this.warn(dir, `auth-user-pass: the credentials file "${file}" was not read; Causeway asks for the username and password when connecting`);
    }
  },
  'auth-nocache'(dir) {
    this.args(dir, 0, 0);
    this.d.authNoCache = true;
  },
  'auth-retry'(dir) {
    const [v] = this.args(dir, 1, 1);
    if (v !== 'none' && v !== 'nointeract' && v !== 'interact') {
      throw new ProfileError(`auth-retry must be none, nointeract or interact, not "${v}"`, dir.line, dir.name);
    }
    this.d.authRetry = v;
  },
  'static-challenge'(dir) {
    const [text, echo, format] = this.args(dir, 2, 3);
    if (echo !== '0' && echo !== '1') throw new ProfileError(`static-challenge: the echo flag must be 0 or 1, not "${echo}"`, dir.line, dir.name);
    if (format !== undefined && format !== 'scrv1' && format !== 'concat') {
      throw new ProfileError(`static-challenge: the format must be scrv1 or concat, not "${format}"`, dir.line, dir.name);
    }
    if (format === 'concat') this.warn(dir, 'static-challenge concat is sent as SCRV1; the server must accept that format');
    this.d.staticChallenge = { text: text!, echo: echo === '1' };
  },
  'auth-federate'(dir) {
    this.args(dir, 0, 0);
    this.d.federate = true;
  },
};
