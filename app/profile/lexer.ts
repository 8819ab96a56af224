// Turns .ovpn bytes into a list of directives, the way OpenVPN 2.6 reads a config file
// (options.c: read_config_file, parse_line, check_inline_file, read_inline_file):
//  - a UTF-8 BOM at the start is skipped; CR before LF is whitespace;
//  - a token starting with `#` or `;` starts a comment (mid-token they are literal);
//  - "double quotes" allow spaces and the escapes \\ \" and \<space>; 'single quotes' are raw;
//    outside single quotes any other backslash escape is an error (as in OpenVPN);
//  - a closing quote ends the token, so `"a"b` is two tokens;
//  - a line holding only `<tag>` starts an inline block that runs, verbatim, up to the first
//    line whose first non-blank text is `</tag>`; `<connection>` blocks are parsed as options;
//  - a leading `--` on the directive name is dropped.
// Anything else that OpenVPN would reject is a ProfileError with the line number.
import { ProfileError } from './errors.js';

export interface Directive {
  /** Option name without a `--` prefix, e.g. "remote", "ca". */
  name: string;
  /** Arguments after the name. For an inline block: empty. */
  args: string[];
  /** 1-based line number of the directive (the opening tag for blocks). */
  line: number;
  /** Text of an inline block (`<ca>…</ca>`), LF line endings, ending in a newline; else null. */
  inline: string | null;
  /** Directives of a `<connection>` block; else null. */
  block: Directive[] | null;
}

/** OpenVPN's OPTION_PARM_SIZE: the longest argument it accepts. */
export const MAX_ARG_CHARS = 256;
/** OpenVPN's MAX_PARMS: name plus arguments on one line. */
export const MAX_TOKENS = 16;

/** Splits one configuration line into tokens (OpenVPN parse_line). Returns [] for blank/comment lines. */
export function tokenizeLine(text: string, line: number): string[] {
  const tokens: string[] = [];
  type State = 'initial' | 'unquoted' | 'quoted' | 'squoted';
  let state: State = 'initial';
  let backslash = false;
  let current = '';

  const finish = (): void => {
    if (current.length > MAX_ARG_CHARS) {
      throw new ProfileError(`an argument is longer than ${MAX_ARG_CHARS} characters`, line);
    }
    tokens.push(current);
    current = '';
    state = 'initial';
    if (tokens.length > MAX_TOKENS) {
      throw new ProfileError(`more than ${MAX_TOKENS - 1} arguments on one line`, line);
    }
  };

  // Walk one past the end: OpenVPN treats the terminating NUL as whitespace.
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text[i]! : '';
    const isSpace = c === '' || c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\v' || c === '\f';
    if (!backslash && c === '\\' && state !== 'squoted') {
      backslash = true;
      continue;
    }
    // Blank runs between tokens are most of a padded line: skip them cheaply.
    if (state === 'initial' && isSpace && !backslash && c !== '') continue;
    let out = '';
    if (state === 'initial') {
      if (!isSpace) {
        if (c === '#' || c === ';') break;
        if (!backslash && c === '"') state = 'quoted';
        else if (!backslash && c === "'") state = 'squoted';
        else {
          out = c;
          state = 'unquoted';
        }
      }
    } else if (state === 'unquoted') {
      if (!backslash && isSpace) {
        finish();
      } else out = c;
    } else if (state === 'quoted') {
      if (!backslash && c === '"') finish();
      else out = c;
    } else if (c === "'") {
      finish();
    } else out = c;

    if (backslash && out && !(out === '\\' || out === '"' || /^\s$/.test(out))) {
      throw new ProfileError(
        'bad backslash escape: only \\\\, \\" and "\\ " are allowed (write Windows paths with double backslashes)',
        line,
      );
    }
    backslash = false;
    current += out;
    if (current.length > MAX_ARG_CHARS) throw new ProfileError(`an argument is longer than ${MAX_ARG_CHARS} characters`, line);
    if (c === '' && state !== 'initial') break;
  }
  if (state === 'quoted') throw new ProfileError('no closing quotation mark (")', line);
  if (state === 'squoted') throw new ProfileError("no closing single quotation mark (')", line);
  if (state === 'unquoted') throw new ProfileError('the line ends with a lone backslash', line);
  return tokens;
}

/** A tokenized line that is a lone `<tag>` opens an inline block; returns the tag name. */
function blockTag(tokens: string[]): string | null {
  if (tokens.length !== 1) return null;
  const t = tokens[0]!;
  if (t.length > 2 && t.startsWith('<') && t.endsWith('>') && !t.startsWith('</')) return t.slice(1, -1);
  return null;
}

/**
 * Parses decoded profile text (see decode.ts) into directives.
 * @param lineOffset added to line numbers, for text nested in an outer file.
 * @param nested true inside a `<connection>` block, where another `<connection>` is an error.
 */
export function parseDirectives(lines: readonly string[], lineOffset = 0, nested = false): Directive[] {
  const first = lines.find((l) => l.trim() !== '')?.trimStart() ?? '';
  if (/^<(!doctype html|html)[\s>]/i.test(first)) {
    throw new ProfileError('this is a web page (HTML), not an OpenVPN profile: the download probably needed a sign-in; download the .ovpn file itself');
  }
  const out: Directive[] = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1 + lineOffset;
    const tokens = tokenizeLine(lines[i]!, lineNo);
    if (tokens.length === 0) continue;
    const tag = blockTag(tokens);
    if (tag !== null) {
      if (tag === 'connection' && nested) throw new ProfileError('<connection> blocks cannot be nested', lineNo, tag);
      const close = `</${tag}>`;
      const body: string[] = [];
      let end = -1;
      for (let j = i + 1; j < lines.length; j++) {
        if (lines[j]!.trimStart().startsWith(close)) {
          end = j;
          break;
        }
        body.push(lines[j]!);
      }
      if (end < 0) throw new ProfileError(`the <${tag}> block is never closed (no ${close} line)`, lineNo, tag);
      let block: Directive[] | null = null;
      if (tag === 'connection') {
        block = parseDirectives(body, lineNo, true);
      }
      out.push({ name: tag, args: [], line: lineNo, inline: body.map((l) => `${l}\n`).join(''), block });
      i = end;
      continue;
    }
    let name = tokens[0]!;
    if (name.startsWith('</')) throw new ProfileError(`${name} closes a block that was never opened`, lineNo);
    if (name.startsWith('-----BEGIN')) {
      throw new ProfileError('PEM data (-----BEGIN …) outside a <ca>, <cert>, <key> or similar block: the profile is damaged', lineNo);
    }
    if (name.startsWith('--')) name = name.slice(2);
    out.push({ name, args: tokens.slice(1), line: lineNo, inline: null, block: null });
  }
  return out;
}
