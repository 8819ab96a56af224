// The one error type the profile parser throws, and the issue records an import reports.

/** One finding about a profile, pointing at the line that caused it when there is one. */
export interface ProfileIssue {
  /** 1-based line in the file (inside `<connection>` blocks: the line in the outer file). */
  line: number | null;
  /** The directive concerned, without the `--` prefix; null for file-level problems. */
  directive: string | null;
  /** A sentence a user can act on. Never contains key material or passwords. */
  message: string;
}

/** Thrown for malformed input (and by reference readers for unreadable references). */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
  readonly line: number | null;
  readonly directive: string | null;
  /** The message without the "line N:" prefix. */
  readonly reason: string;

  constructor(message: string, line: number | null = null, directive: string | null = null) {
    super(line === null ? message : `line ${line}: ${message}`);
    this.line = line;
    this.directive = directive;
    this.reason = message;
  }

  toIssue(): ProfileIssue {
    return { line: this.line, directive: this.directive, message: this.reason };
  }
}
