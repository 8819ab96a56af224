// Shape checks for the key material a profile carries. They catch a file in the wrong slot
// (a key where the CA goes, a truncated paste) at import, with a message that never echoes
// the material itself. Cryptographic validity is checked where the material is used.
import { ProfileError } from './errors.js';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** PEM blocks in the text, by label, in order. */
function pemBlocks(text: string): { label: string; body: string }[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({ label: m[1]!, body: m[2]! }));
}

/** Normalizes a PEM bundle to just its blocks, LF endings, one trailing newline. */
function normalized(blocks: { label: string; body: string }[]): string {
  return blocks.map((b) => `-----BEGIN ${b.label}-----\n${b.body.replace(/\r/g, '').trim()}\n-----END ${b.label}-----\n`).join('');
}

/** One or more certificates (ca, extra-certs, cert). Returns the normalized bundle. */
export function certificates(text: string, what: string, line: number, directive: string): string {
  const blocks = pemBlocks(text);
  const certs = blocks.filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE' || b.label === 'TRUSTED CERTIFICATE');
  if (certs.length === 0) {
    // Name what was found without echoing anything that could be mistaken for key material.
    const found = blocks.length ? ` (it holds ${/PRIVATE KEY/.test(blocks[0]!.label) ? 'a private key' : `a ${blocks[0]!.label.toLowerCase()}`} instead)` : '';
    throw new ProfileError(`${what} holds no PEM certificate${found}`, line, directive);
  }
  for (const c of certs) {
    if (!/^[A-Za-z0-9+/=\s]+$/.test(c.body)) throw new ProfileError(`${what} holds a damaged certificate (not base64)`, line, directive);
  }
  return normalized(certs);
}

export interface PrivateKeyInfo {
  pem: string;
  encrypted: boolean;
}

/** A client private key: PKCS#8, PKCS#1 RSA or SEC1 EC, possibly passphrase-protected. */
export function privateKey(text: string, line: number, directive: string): PrivateKeyInfo {
  const blocks = pemBlocks(text).filter((b) => /PRIVATE KEY$/.test(b.label));
  const keys = blocks.filter((b) => ['PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'].includes(b.label));
  if (blocks.length === 1 && keys.length === 0) {
    throw new ProfileError(`the key is a ${blocks[0]!.label.toLowerCase()}, not a TLS private key (PKCS#8, RSA or EC PEM)`, line, directive);
  }
  if (keys.length !== 1) {
    throw new ProfileError(keys.length ? 'the key holds more than one private key' : 'the key holds no PEM private key', line, directive);
  }
  const k = keys[0]!;
  const encrypted = k.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(k.body);
  return { pem: normalized(keys), encrypted };
}

/** An OpenVPN static key (tls-auth, tls-crypt): 256 bytes as 16 lines of hex. */
export function staticKey(text: string, line: number, directive: string): string {
  const m = /-----BEGIN OpenVPN Static key V1-----([\s\S]*?)-----END OpenVPN Static key V1-----/.exec(text);
  if (!m) throw new ProfileError(`the ${directive} key is not an "OpenVPN Static key V1"`, line, directive);
  const hex = m[1]!.replace(/\s+/g, '');
  if (!/^[0-9a-fA-F]{512}$/.test(hex)) {
    throw new ProfileError(`the ${directive} key is damaged (expected 256 bytes of hex)`, line, directive);
  }
  const lines = hex.match(/.{32}/g)!.join('\n');
  return `-----BEGIN OpenVPN Static key V1-----\n${lines}\n-----END OpenVPN Static key V1-----\n`;
}

/** A tls-crypt-v2 client key (client key + wrapped key, base64). */
export function tlsCryptV2ClientKey(text: string, line: number, directive: string): string {
  const m = /-----BEGIN OpenVPN tls-crypt-v2 client key-----([\s\S]*?)-----END OpenVPN tls-crypt-v2 client key-----/.exec(text);
  if (!m || !/^[A-Za-z0-9+/=\s]+$/.test(m[1]!) || m[1]!.replace(/\s+/g, '').length < 300) {
    throw new ProfileError('the tls-crypt-v2 key is not an "OpenVPN tls-crypt-v2 client key"', line, directive);
  }
  return `-----BEGIN OpenVPN tls-crypt-v2 client key-----\n${m[1]!.replace(/\r/g, '').trim()}\n-----END OpenVPN tls-crypt-v2 client key-----\n`;
}
