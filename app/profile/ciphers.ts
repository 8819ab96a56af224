// The data-channel ciphers Causeway's engine speaks, and the ones it refuses outright.
import type { DataCipher } from './model.js';

/** What a profile without `data-ciphers` offers, in preference order (OpenVPN 2.6's default). */
export const DEFAULT_CIPHERS: readonly DataCipher[] = ['AES-256-GCM', 'AES-128-GCM', 'CHACHA20-POLY1305'];

/** Every cipher the engine implements: the AEAD ones and AES-CBC with an HMAC for older servers. */
export const SUPPORTED_CIPHERS: readonly DataCipher[] = [...DEFAULT_CIPHERS, 'AES-256-CBC', 'AES-128-CBC'];

/** Digests the CBC ciphers (and tls-auth) authenticate with. */
export const SUPPORTED_DIGESTS = ['SHA1', 'SHA256', 'SHA512'] as const;

/** The cipher a name stands for (OpenVPN's spellings, any case), or null if the engine lacks it. */
export function supportedCipher(name: string): DataCipher | null {
  const upper = name.trim().toUpperCase();
  const canonical = upper === 'CHACHA20POLY1305' ? 'CHACHA20-POLY1305' : upper.replace(/^ID-/, '');
  return SUPPORTED_CIPHERS.find((c) => c === canonical) ?? null;
}

export function isCbc(c: DataCipher): boolean {
  return c.endsWith('-CBC');
}

// 64-bit block ciphers; the same prefixes as the engine's `cbc::sweet32_refusal`.
const SWEET32_PREFIXES = ['BF-', 'BLOWFISH', 'DES', 'CAST', 'RC2', 'RC5', 'IDEA'];

/** Why a 64-bit block cipher is refused (to follow its name), with advice; null for any other name. */
export function sweet32Refusal(name: string): string | null {
  const upper = name.trim().toUpperCase();
  if (!SWEET32_PREFIXES.some((p) => upper.startsWith(p))) return null;
  return (
    'a 64-bit block cipher open to the SWEET32 attack (plaintext recovered from the traffic of one long session), ' +
    "which Causeway refuses; ask the server's administrator to offer AES-256-GCM (data-ciphers), " +
    'or AES-256-CBC where the server is older than OpenVPN 2.4'
  );
}
