// Bytes of a .ovpn file -> lines of text, refusing what OpenVPN could not read as a text
// config (binary data, UTF-16, invalid UTF-8) with a reason and, where it helps, a line.
import { ProfileError } from './errors.js';

/** The largest profile Causeway imports. Real profiles are a few KB; 100 KB with big CA bundles. */
export const MAX_PROFILE_BYTES = 8 * 1024 * 1024;

function lineOf(bytes: Uint8Array, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

function looksUtf16(bytes: Uint8Array): boolean {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    return true;
  }
  // BOM-less UTF-16 text: ASCII characters alternate with NUL bytes.
  const sample = Math.min(bytes.length, 64);
  let zeros = 0;
  for (let i = 0; i < sample; i++) if (bytes[i] === 0) zeros++;
  return sample >= 8 && zeros >= sample / 3;
}

/** Decodes profile bytes (or already decoded text) into lines without their line endings. */
export function decodeProfile(input: Uint8Array | string): string[] {
  let text: string;
  if (typeof input === 'string') {
    if (input.length > MAX_PROFILE_BYTES) throw tooLarge(input.length);
    const nul = input.indexOf('\0');
    if (nul >= 0) throw nulError(input.slice(0, nul).split('\n').length);
    text = input;
  } else {
    if (input.length > MAX_PROFILE_BYTES) throw tooLarge(input.length);
    if (looksUtf16(input)) {
      throw new ProfileError('the file is UTF-16 encoded; save it as UTF-8 (or ASCII) text and import it again');
    }
    const nul = input.indexOf(0);
    if (nul >= 0) throw nulError(lineOf(input, nul));
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new ProfileError('the file is not valid UTF-8 text', firstBadUtf8Line(input));
    }
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  return text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

function tooLarge(size: number): ProfileError {
  return new ProfileError(
    `the file is ${(size / 1024 / 1024).toFixed(1)} MiB; profiles larger than ${MAX_PROFILE_BYTES / 1024 / 1024} MiB are not imported`,
  );
}

function nulError(line: number): ProfileError {
  return new ProfileError('the file contains a NUL byte: it is binary data, not an OpenVPN profile', line);
}

function firstBadUtf8Line(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let start = 0;
  let line = 1;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        decoder.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      start = i + 1;
      line++;
    }
  }
  return line;
}
