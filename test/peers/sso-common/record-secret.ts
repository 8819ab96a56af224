// The secret-scan convention (test/README.md): every secret a test creates is appended to
// test-results/secrets.txt, and the final secret-scan suite fails if any of them shows up in a
// log or output file under test-results/.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const resultsDir = join(import.meta.dirname, '..', '..', '..', 'test-results');

export function recordSecret(...secrets: (string | null | undefined)[]): void {
  // Multi-line secrets (PEM keys) are recorded line by line, so a fragment is caught too.
  const lines = secrets
    .filter((s): s is string => typeof s === 'string')
    .flatMap((s) => s.split('\n').map((l) => l.trim()))
    .filter((l) => l.length >= 8 && !l.startsWith('-----'));
  if (!lines.length) return;
  mkdirSync(resultsDir, { recursive: true });
  appendFileSync(join(resultsDir, 'secrets.txt'), lines.map((s) => `${s}\n`).join(''));
}
