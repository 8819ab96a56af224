import { describe, expect, it } from 'vitest';
import { decodeProfile } from './decode.js';
import { ProfileError } from './errors.js';
import { parseDirectives, tokenizeLine } from './lexer.js';

const parse = (text: string) => parseDirectives(decodeProfile(text));

describe('tokenizeLine (OpenVPN parse_line rules)', () => {
  it('splits on whitespace and drops comments that start a token', () => {
    expect(tokenizeLine('remote  vpn.example.com\t443 udp # primary', 1)).toEqual(['remote', 'vpn.example.com', '443', 'udp']);
    expect(tokenizeLine('  ; a comment', 1)).toEqual([]);
    expect(tokenizeLine('# another', 1)).toEqual([]);
    expect(tokenizeLine('', 1)).toEqual([]);
  });

  it('keeps # and ; inside a token', () => {
    expect(tokenizeLine('verify-x509-name a#b;c name', 1)).toEqual(['verify-x509-name', 'a#b;c', 'name']);
  });

  it('handles double quotes with escapes and raw single quotes', () => {
    expect(tokenizeLine('static-challenge "Enter MFA code " 1', 1)).toEqual(['static-challenge', 'Enter MFA code ', '1']);
    expect(tokenizeLine('x "a \\"b\\" \\\\ c"', 1)).toEqual(['x', 'a "b" \\ c']);
    expect(tokenizeLine("x 'C:\\path\\file'", 1)).toEqual(['x', 'C:\\path\\file']);
    expect(tokenizeLine('x a\\ b', 1)).toEqual(['x', 'a b']);
    expect(tokenizeLine('x ""', 1)).toEqual(['x', '']);
  });

  it('ends a token at the closing quote, as OpenVPN does', () => {
    expect(tokenizeLine('x "ab"cd', 1)).toEqual(['x', 'ab', 'cd']);
  });

  it('rejects what OpenVPN rejects, with the line number', () => {
    expect(() => tokenizeLine('x "unterminated', 7)).toThrow(/line 7: no closing quotation/);
    expect(() => tokenizeLine("x 'unterminated", 3)).toThrow(/no closing single quotation/);
    expect(() => tokenizeLine('ca C:\\dir\\ca.crt', 2)).toThrow(/bad backslash/);
    expect(() => tokenizeLine('x a\\', 2)).toThrow(/lone backslash/);
    expect(() => tokenizeLine(`x ${'a'.repeat(257)}`, 2)).toThrow(/longer than 256/);
    expect(() => tokenizeLine(`x ${'a '.repeat(16)}`, 2)).toThrow(/more than 15 arguments/);
  });
});

describe('parseDirectives', () => {
  it('reads inline blocks verbatim and strips a -- prefix', () => {
    const ds = parse('--client\n<ca>\n# not a comment\nline2\n  </ca>\nremote h 1\n');
    expect(ds.map((d) => d.name)).toEqual(['client', 'ca', 'remote']);
    expect(ds[1]!.inline).toBe('# not a comment\nline2\n');
    expect(ds[2]!.line).toBe(6);
  });

  it('handles CRLF and a UTF-8 BOM', () => {
    const bytes = new TextEncoder().encode('\uFEFFclient\r\nremote host 443\r\n<ca>\r\nabc\r\n</ca>\r\n');
    const ds = parseDirectives(decodeProfile(bytes));
    expect(ds.map((d) => [d.name, d.args])).toEqual([
      ['client', []],
      ['remote', ['host', '443']],
      ['ca', []],
    ]);
    expect(ds[2]!.inline).toBe('abc\n');
  });

  it('parses <connection> blocks as options, with outer line numbers', () => {
    const ds = parse('client\n<connection>\nremote a 1194 udp\n</connection>\n');
    expect(ds[1]!.block).toEqual([{ name: 'remote', args: ['a', '1194', 'udp'], line: 3, inline: null, block: null }]);
  });

  it('reports unterminated blocks, stray closing tags and nested connections', () => {
    expect(() => parse('client\n<key>\nabc\n')).toThrow(/line 2: the <key> block is never closed/);
    expect(() => parse('</ca>\n')).toThrow(/never opened/);
    expect(() => parse('\n<!DOCTYPE html>\n<html><body>Sign in</body></html>\n')).toThrow(/web page \(HTML\), not an OpenVPN profile/);
    expect(() => parse('client\n-----BEGIN PRIVATE KEY-----\nMIGH\n')).toThrow(/line 2: PEM data .* outside a <ca>/);
    expect(() => parse('<connection>\n<connection>\n</connection>\n</connection>\n')).toThrow(/cannot be nested/);
  });
});

describe('decodeProfile', () => {
  it('refuses UTF-16, NUL bytes and invalid UTF-8 with a reason', () => {
    const utf16 = new Uint8Array([0xff, 0xfe, ...[...'client\n'].flatMap((c) => [c.charCodeAt(0), 0])]);
    expect(() => decodeProfile(utf16)).toThrow(/UTF-16/);
    expect(() => decodeProfile(new Uint8Array([0x61, 0x0a, 0x62, 0x00]))).toThrow(/line 2: the file contains a NUL byte/);
    expect(() => decodeProfile(new Uint8Array([0x61, 0x0a, 0xff, 0x0a]))).toThrow(/line 2: the file is not valid UTF-8/);
    try {
      decodeProfile(new Uint8Array([0xc3]));
    } catch (e) {
      expect(e).toBeInstanceOf(ProfileError);
    }
  });
});
