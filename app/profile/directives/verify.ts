// OpenVPN 2.6's directives that tighten how the server is checked. Each is carried to the engine,
// which enforces it in its certificate verifier; none is ever dropped, because a profile that
// pins its server must not silently accept any server its CA signed.
import { ProfileError } from '../errors.js';
import type { Directive } from '../lexer.js';
import type { Normalizer } from '../normalizer.js';
import type { Handler } from './handler.js';

/** Extended key usage names OpenSSL (and so OpenVPN) accepts, by OID. */
const EKU_OIDS: Record<string, string> = {
  serverauth: '1.3.6.1.5.5.7.3.1',
  'tls web server authentication': '1.3.6.1.5.5.7.3.1',
  clientauth: '1.3.6.1.5.5.7.3.2',
  'tls web client authentication': '1.3.6.1.5.5.7.3.2',
  codesigning: '1.3.6.1.5.5.7.3.3',
  'code signing': '1.3.6.1.5.5.7.3.3',
  emailprotection: '1.3.6.1.5.5.7.3.4',
  'e-mail protection': '1.3.6.1.5.5.7.3.4',
  timestamping: '1.3.6.1.5.5.7.3.8',
  'time stamping': '1.3.6.1.5.5.7.3.8',
  ocspsigning: '1.3.6.1.5.5.7.3.9',
  'ocsp signing': '1.3.6.1.5.5.7.3.9',
};

/** A fingerprint as "AB:CD:…" (upper case, colons), checked to be `bytes` long. */
function fingerprint(dir: Directive, text: string, bytes: number, what: string): string {
  const hex = text.replace(/:/g, '');
  if (!new RegExp(`^[0-9A-Fa-f]{${bytes * 2}}$`).test(hex)) {
    throw new ProfileError(`${dir.name}: "${text.slice(0, 40)}" is not a ${what} fingerprint (${bytes} bytes in hex)`, dir.line, dir.name);
  }
  return hex.toUpperCase().match(/../g)!.join(':');
}

/** The values of a directive given as arguments, or one per line of its inline block. */
function listValues(n: Normalizer, dir: Directive): string[] {
  if (dir.inline === null) return n.args(dir, 1, Infinity);
  return dir.inline
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith(';'));
}

export const verifyHandlers: Record<string, Handler> = {
  'peer-fingerprint'(dir) {
    const values = listValues(this, dir);
    if (values.length === 0) throw new ProfileError('peer-fingerprint lists no fingerprint', dir.line, dir.name);
    this.d.peerFingerprints.push(...values.map((v) => fingerprint(dir, v, 32, 'SHA-256')));
  },
  'verify-hash'(dir) {
    let algorithm: 'SHA1' | 'SHA256' = 'SHA1';
    let values: string[];
    if (dir.inline !== null) {
      values = listValues(this, dir);
    } else {
      const [hash, algo] = this.args(dir, 1, 2);
      if (algo !== undefined) {
        const a = algo.toUpperCase().replace('-', '');
        if (a !== 'SHA1' && a !== 'SHA256') throw new ProfileError(`verify-hash: the algorithm must be SHA1 or SHA256, not "${algo}"`, dir.line, dir.name);
        algorithm = a;
      }
      values = [hash!];
    }
    // An inline block is OpenVPN 2.6's list form; its fingerprints are SHA-256 when 32 bytes long.
    if (dir.inline !== null && values.every((v) => v.replace(/:/g, '').length === 64)) algorithm = 'SHA256';
    const bytes = algorithm === 'SHA1' ? 20 : 32;
    const fingerprints = values.map((v) => fingerprint(dir, v, bytes, algorithm === 'SHA1' ? 'SHA-1' : 'SHA-256'));
    if (fingerprints.length === 0) throw new ProfileError('verify-hash lists no fingerprint', dir.line, dir.name);
    this.d.verifyHash = { algorithm, fingerprints };
  },
  'crl-verify'(dir) {
    // Before reading anything: the dir form names a folder, not a file.
    if (dir.args[1] === 'dir') {
      throw new ProfileError('crl-verify … dir (a folder of revoked serial numbers) is not supported; give the CRL file the CA publishes', dir.line, dir.name);
    }
    const { text, rest } = this.content(dir, 1);
    if (rest[0] !== undefined) throw new ProfileError(`crl-verify: unknown option "${rest[0]}"`, dir.line, dir.name);
    const blocks = text.match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g);
    if (!blocks) throw new ProfileError('crl-verify: no PEM certificate revocation list (-----BEGIN X509 CRL-----) found', dir.line, dir.name);
    this.d.crl = `${blocks.join('\n')}\n`;
  },
  'remote-cert-ku'(dir) {
    const values = dir.args.map((v) => {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(v)) throw new ProfileError(`remote-cert-ku: "${v}" is not a key usage value in hex (e.g. a0)`, dir.line, dir.name);
      return Number.parseInt(v, 16);
    });
    this.d.remoteCertKu = values;
  },
  'remote-cert-eku'(dir) {
    const [eku] = this.args(dir, 1, 1);
    const oid = /^\d+(\.\d+)+$/.test(eku!) ? eku! : EKU_OIDS[eku!.toLowerCase()];
    if (oid === undefined) {
      throw new ProfileError(`remote-cert-eku: "${eku}" is not an extended key usage Causeway knows; give its OID (e.g. 1.3.6.1.5.5.7.3.1)`, dir.line, dir.name);
    }
    this.d.remoteCertEku = oid;
  },
};
