// TLS and data-channel directives: versions, cipher lists (refusing NULL, none and 64-bit block
// ciphers), digests,
// renegotiation, server verification.
import { ProfileError } from '../errors.js';
import type { Directive } from '../lexer.js';
import type { TlsVersion } from '../../helper-protocol/messages.js';
import type { DataCipher } from '../model.js';
import type { Normalizer } from '../normalizer.js';
import { SUPPORTED_CIPHERS, supportedCipher, sweet32Refusal } from '../ciphers.js';
import type { Handler } from './handler.js';

/** Refuses a 64-bit block cipher with the SWEET32 reason and advice. */
function refuseSweet32(dir: Directive, name: string): void {
  const reason = sweet32Refusal(name);
  if (reason !== null) throw new ProfileError(`${dir.name}: ${name} is ${reason}`, dir.line, dir.name);
}

function refuseNone(dir: Directive, name: string): void {
  if (name.toUpperCase() === 'NONE') {
    throw new ProfileError(`${dir.name} none would send your traffic unencrypted`, dir.line, dir.name);
  }
}

function cipherName(n: Normalizer, dir: Directive, list: string): DataCipher[] {
  const names = list.split(':').map((c) => c.trim().replace(/^\?/, '').toUpperCase()).filter((c) => c !== '');
  if (names.length === 0) throw new ProfileError(`${dir.name} lists no cipher`, dir.line, dir.name);
  if (names.includes('NONE')) {
    throw new ProfileError(`${dir.name} includes "none", which would send your traffic unencrypted`, dir.line, dir.name);
  }
  for (const name of names) refuseSweet32(dir, name);
  const supported = [...new Set(names.map(supportedCipher).filter((c): c is DataCipher => c !== null))];
  const other = names.filter((c) => supportedCipher(c) === null);
  if (supported.length === 0) {
    throw new ProfileError(
      `none of the data ciphers ${names.join(', ')} is supported; Causeway supports ${SUPPORTED_CIPHERS.join(', ')}`,
      dir.line,
      dir.name,
    );
  }
  if (other.length) n.warn(dir, `${dir.name}: ${other.join(', ')} ${other.length > 1 ? 'are' : 'is'} not supported and will not be offered`);
  return supported;
}

/** A tls-version-min/max argument: 1.2 or 1.3; older versions, which the directive `verb`, are refused. */
function tlsVersion(dir: Directive, v: string | undefined, verb: 'allows' | 'forces'): TlsVersion {
  if (v === '1.2' || v === '1.3') return v;
  if (v === '1.0' || v === '1.1') {
    throw new ProfileError(`${dir.name} ${v} ${verb} TLS below 1.2, which is no longer secure; Causeway requires TLS 1.2 or newer`, dir.line, dir.name);
  }
  throw new ProfileError(`${dir.name}: "${v}" is not a TLS version`, dir.line, dir.name);
}

export const tlsHandlers: Record<string, Handler> = {
  'tls-version-min'(dir) {
    const [v, orHighest] = this.args(dir, 1, 2);
    if (orHighest !== undefined && orHighest !== 'or-highest') {
      throw new ProfileError(`tls-version-min: unknown option "${orHighest}"`, dir.line, dir.name);
    }
    this.d.tlsVersionMin = tlsVersion(dir, v, 'allows');
  },
  'tls-version-max'(dir) {
    const [v] = this.args(dir, 1, 1);
    this.d.tlsVersionMax = tlsVersion(dir, v, 'forces');
  },
  'tls-cipher'(dir) {
    const [list] = this.args(dir, 1, 1);
    const nulls = list!.split(/[:,\s]+/).filter((c) => /NULL/i.test(c) && !/^[!-]/.test(c));
    if (nulls.length) {
      throw new ProfileError(`tls-cipher allows ${nulls.join(', ')}: TLS without encryption or authentication`, dir.line, dir.name);
    }
  },
  'tls-ciphersuites'(dir) {
    const [list] = this.args(dir, 1, 1);
    const bad = list!.split(':').filter((c) => /NULL|^TLS_SHA(256|384)_SHA(256|384)$/i.test(c));
    if (bad.length) {
      throw new ProfileError(`tls-ciphersuites allows ${bad.join(', ')}: TLS without encryption`, dir.line, dir.name);
    }
  },
  'tls-cert-profile'(dir) {
    const [p] = this.args(dir, 1, 1);
    if (p === 'insecure') throw new ProfileError('tls-cert-profile insecure accepts MD5 and short keys; Causeway does not', dir.line, dir.name);
    if (!['legacy', 'preferred', 'suiteb'].includes(p!)) throw new ProfileError(`tls-cert-profile: unknown profile "${p}"`, dir.line, dir.name);
  },
  'data-ciphers'(dir) {
    const [list] = this.args(dir, 1, 1);
    this.d.dataCiphers = cipherName(this, dir, list!);
  },
  'ncp-ciphers'(dir) {
    tlsHandlers['data-ciphers']!.call(this, dir, null);
  },
  'data-ciphers-fallback'(dir) {
    const [c] = this.args(dir, 1, 1);
    refuseNone(dir, c!);
    refuseSweet32(dir, c!);
    const cipher = supportedCipher(c!);
    if (cipher === null) {
      this.warn(dir, `data-ciphers-fallback ${c} is ignored: Causeway supports ${SUPPORTED_CIPHERS.join(', ')}`);
      return;
    }
    this.d.dataCiphersFallback = cipher;
  },
  cipher(dir) {
    const [c] = this.args(dir, 1, 1);
    refuseNone(dir, c!);
    refuseSweet32(dir, c!);
    const cipher = supportedCipher(c!);
    if (cipher === null) {
      this.warn(dir, `cipher ${c} is ignored: Causeway supports ${SUPPORTED_CIPHERS.join(', ')}`);
      return;
    }
    // As OpenVPN 2.5 did: the 2.4-style cipher joins the offered ones (for servers that only have it).
    this.d.cipher = cipher;
  },
  auth(dir) {
    const [a] = this.args(dir, 1, 1);
    if (a!.toLowerCase() === 'none') throw new ProfileError('auth none turns off packet authentication', dir.line, dir.name);
    this.d.authDigest = a!;
    this.d.authDigestLine = dir.line;
  },
  'reneg-sec'(dir) {
    const [a] = this.args(dir, 1, 2);
    this.d.renegSec = this.int(dir, a, 0, 365 * 86400);
  },
  'reneg-bytes'(dir) {
    const n = this.int(dir, this.args(dir, 1, 1)[0], 0, Number.MAX_SAFE_INTEGER);
    this.d.renegBytes = n === 0 ? null : n;
  },
  'remote-cert-tls'(dir) {
    const [v] = this.args(dir, 1, 1);
    if (v !== 'server') throw new ProfileError(`remote-cert-tls ${v} makes no sense in a client profile; use remote-cert-tls server`, dir.line, dir.name);
    this.d.remoteCertTls = 'server';
  },
  'ns-cert-type'(dir) {
    const [v] = this.args(dir, 1, 1);
    if (v !== 'server') throw new ProfileError(`ns-cert-type ${v} makes no sense in a client profile`, dir.line, dir.name);
    this.d.remoteCertTls = 'server';
    this.warn(dir, 'ns-cert-type is deprecated; it is treated as remote-cert-tls server');
  },
  'verify-x509-name'(dir) {
    const [name, type] = this.args(dir, 1, 2);
    const t = type ?? 'subject';
    if (t !== 'subject' && t !== 'name' && t !== 'name-prefix') {
      throw new ProfileError(`verify-x509-name: the type must be subject, name or name-prefix, not "${t}"`, dir.line, dir.name);
    }
    if (name === '') throw new ProfileError('verify-x509-name needs a name', dir.line, dir.name);
    this.d.verifyX509Name = { name: name!, type: t };
  },
};
