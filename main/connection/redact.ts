// Strips secrets from log text before it is stored or shown. Two layers:
//  1. every secret value the session knows (key, passwords, challenge answers, SAML responses,
//     tokens) is replaced wherever it appears, whole or line by line for multi-line PEM;
//  2. anything that looks like a secret is replaced even when we were never told about it:
//     PEM blocks, `password=…`-style pairs, CRV1/SCRV1 answers, JWTs, long base64 runs.
const REDACTED = '[redacted]';

const PATTERNS: [RegExp, string | ((...m: string[]) => string)][] = [
  [/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?(?:-----END \1-----|$)/g, `${REDACTED} PEM`],
  [/\b(CRV1::[^:\s]*::)\S+/g, (_m, head) => `${head}${REDACTED}`],
  [/\bSCRV1:\S+/g, `SCRV1:${REDACTED}`],
  [
    /\b(pass(?:word|wd)?|secret|token|auth[-_]?token|saml[-_]?response|response|otp|pin|private[-_]?key)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi,
    (_m, name, sep) => `${name}${sep}${REDACTED}`,
  ],
  // `auth-token <value>` as OpenVPN pushes it.
  [/\b(auth-token(?:-user)?\s+)\S+/gi, (_m, head) => `${head}${REDACTED}`],
  [/\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/g, REDACTED],
  [/[A-Za-z0-9+/_-]{80,}={0,2}/g, REDACTED],
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
