// Strips secrets from log text before it is stored or shown. Two layers:
//  1. every secret value the session knows (key, passwords, challenge answers, SAML responses,
//     tokens) is replaced wherever it appears, whole or line by line for multi-line PEM;
//  2. anything that looks like a secret is replaced even when we were never told about it:
//     PEM and OpenVPN static-key blocks, `password=…`/`password <value>`/JSON `"password":…`
//     pairs, OAuth tokens, `Bearer …`, CRV1/SCRV1 answers, JWTs, long (also URL-encoded) base64.
const REDACTED = '[redacted]';

/** Names whose values are secrets, in `name=value`, `name: value` and JSON `"name": value` forms. */
const SECRET_NAMES =
  'pass(?:word|wd|phrase)?|secret|client[-_]?secret|(?:refresh|access|id|auth)[-_]?token|token|saml[-_]?response|response|otp|pin|private[-_]?key|code[-_]?verifier';
/** Words that follow "password" in ordinary sentences ("password saved …"), so they are not values. */
const PROSE_AFTER_PASSWORD = '(?:saved|rejected|accepted|required|prompt|expired|changed|forgotten|for|is|was|and|or|the|of|to|in|not|from|again)\\b';

const PATTERNS: [RegExp, string | ((...m: string[]) => string)][] = [
  // PEM blocks, also OpenVPN's "Static key V1" and "tls-crypt-v2 client key" (lower case, dashes).
  [/-----BEGIN ([A-Za-z0-9 -]+)-----[\s\S]*?(?:-----END \1-----|$)/g, `${REDACTED} PEM`],
  [/\b(CRV1::[^:\s]*::)\S+/g, (_m, head) => `${head}${REDACTED}`],
  [/\bSCRV1:\S+/g, `SCRV1:${REDACTED}`],
  // JSON: "password": "…" (the value with its escapes), or a bare number/literal.
  [new RegExp(`("(?:${SECRET_NAMES})"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|[^,}\\s]+)`, 'gi'), (_m, head) => `${head}"${REDACTED}"`],
  // Underscores count as word characters, so the names carry their own boundary: refresh_token=….
  [new RegExp(`(^|[^A-Za-z0-9])(${SECRET_NAMES})(\\s*[=:]\\s*)("[^"]*"|'[^']*'|\\S+)`, 'gim'), (_m, pre, name, sep) => `${pre}${name}${sep}${REDACTED}`],
  // `password <value>` as in a config echo, and the management interface's `password "Auth" <value>`.
  [
    new RegExp(`\\b(pass(?:word|wd|phrase))(\\s+(?:"(?:Auth|Private Key|HTTP Proxy|SOCKS Proxy)"\\s+)?)(?!${PROSE_AFTER_PASSWORD})("[^"]*"|\\S+)`, 'gi'),
    (_m, name, sep) => `${name}${sep}${REDACTED}`,
  ],
  // `auth-token <value>` as OpenVPN pushes it; HTTP authorization headers.
  [/\b(auth-token(?:-user)?\s+)\S+/gi, (_m, head) => `${head}${REDACTED}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/%-]{8,}=*/g, (_m, scheme) => `${scheme} ${REDACTED}`],
  [/\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/g, REDACTED],
  // Long base64 runs, also URL-encoded (%2B, %2F, %3D) as in a form post or a query string.
  [/(?:[A-Za-z0-9+/_-]|%[0-9A-Fa-f]{2}){80,}(?:=|%3D){0,2}/g, REDACTED],
];

/** Pieces of a secret shorter than this are not hunted individually (too many false hits). */
const MIN_PIECE = 12;

export class Redactor {
  private readonly values = new Set<string>();

  /** Registers a secret value; it will never appear in redacted text. */
  add(secret: string | null | undefined): void {
    if (!secret) return;
    this.values.add(secret);
    for (const line of secret.split(/\r?\n/)) {
      const piece = line.trim();
      if (piece.length >= MIN_PIECE) this.values.add(piece);
    }
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a whole key is replaced before one of its lines.
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) {
      if (out.includes(v)) out = out.split(v).join(REDACTED);
    }
    for (const [pattern, replacement] of PATTERNS) {
      out = out.replace(pattern, replacement as string);
    }
    return out;
  }
}
