// Keys and certificates: CA, client certificate and key, PKCS#12, tls-auth, tls-crypt(-v2).
import { ProfileError } from '../errors.js';
import { certificates, privateKey, staticKey, tlsCryptV2ClientKey } from '../pem.js';
import type { Handler } from './handler.js';

export const keyHandlers: Record<string, Handler> = {
  ca(dir) {
    this.d.ca = certificates(this.content(dir).text, 'the CA', dir.line, dir.name);
  },
  'extra-certs'(dir) {
    this.d.extraCerts = certificates(this.content(dir).text, 'extra-certs', dir.line, dir.name);
  },
  cert(dir) {
    this.d.cert = certificates(this.content(dir).text, 'the client certificate', dir.line, dir.name);
  },
  key(dir) {
    const key = privateKey(this.content(dir).text, dir.line, dir.name);
    if (!key.encrypted) {
      this.d.key = key.pem;
      return;
    }
    const decrypt = this.options.decryptKey;
    if (!decrypt) throw new ProfileError('the private key is protected by a passphrase, which cannot be opened here; import the profile with the causeway app or CLI', dir.line, dir.name);
    const opened = this.unlock(dir, 'key', (passphrase) => decrypt(key.pem, passphrase));
    this.d.key = privateKey(opened, dir.line, dir.name).pem;
  },
  'tls-auth'(dir) {
    const { text, rest } = this.content(dir, 1);
    let direction: 0 | 1 | null = null;
    if (rest[0] !== undefined) {
      if (rest[0] !== '0' && rest[0] !== '1') throw new ProfileError(`tls-auth direction must be 0 or 1, not "${rest[0]}"`, dir.line, dir.name);
      direction = rest[0] === '0' ? 0 : 1;
    }
    this.d.tlsAuth = { key: staticKey(text, dir.line, dir.name), direction, line: dir.line };
  },
  'key-direction'(dir) {
    const [v] = this.args(dir, 1, 1);
    if (v === '0' || v === '1') this.d.keyDirection = v === '0' ? 0 : 1;
    else if (v === 'bidirectional') this.d.keyDirection = null;
    else throw new ProfileError(`key-direction must be 0, 1 or bidirectional, not "${v}"`, dir.line, dir.name);
  },
  'tls-crypt'(dir) {
    this.d.tlsCrypt = staticKey(this.content(dir).text, dir.line, dir.name);
  },
  pkcs12(dir) {
    this.pkcs12(dir);
  },
  /**
   * `askpass file`: the first line of a file next to the profile opens its encrypted key or
   * PKCS#12 bundle (read when one is locked, never stored). Plain `askpass` means "ask", which
   * import does anyway for a locked key.
   */
  askpass(dir) {
    if (dir.inline === null && dir.args.length === 0) return;
    this.args(dir, 1, 1);
    this.d.askpass = dir;
  },
  'tls-crypt-v2'(dir) {
    const { text, rest } = this.content(dir, 1);
    if (rest[0] !== undefined && rest[0] !== 'force-cookie' && rest[0] !== 'allow-noncookie') {
      throw new ProfileError(`tls-crypt-v2: unknown option "${rest[0]}"`, dir.line, dir.name);
    }
    this.d.tlsCryptV2 = tlsCryptV2ClientKey(text, dir.line, dir.name);
  },
};
