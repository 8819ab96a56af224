// The last suite of `npm test` (scripts/test.mjs runs it on its own after integration and e2e):
// no secret a test generated may appear in any output or log.
//
// Convention (test/README.md): every suite appends each secret it creates — passwords, private
// key lines, tokens, one-time codes, SAML responses — one per line to test-results/secrets.txt,
// and writes its logs and CLI/helper outputs under test-results/. This test reads every text file
// there (and the CLI's log directory of the user running the tests) and fails, naming the file,
// if any secret shows up as is or base64-encoded. It never prints the secret itself.
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, relative, resolve } from 'node:path';
import { logDir } from '../../main/connection/session-log.js';

const repo = resolve(import.meta.dirname, '..', '..');
const results = join(repo, 'test-results');
const secretsFile = join(results, 'secrets.txt');
const BINARY = new Set(['.png', '.jpg', '.jpeg', '.webm', '.zip', '.gz', '.p12', '.pfx', '.der']);
const MIN_SECRET = 6;

function* files(dir: string): Generator<string> {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile() && !BINARY.has(extname(entry.name).toLowerCase())) yield path;
  }
}

/** Each secret and its base64 forms (standard and URL-safe, unpadded). */
function needles(secrets: string[]): { index: number; text: string }[] {
  return secrets.flatMap((s, index) => {
    const b64 = Buffer.from(s).toString('base64').replace(/=+$/, '');
    const forms = [s, ...(b64.length >= 8 ? [b64, Buffer.from(s).toString('base64url')] : [])];
    return [...new Set(forms)].map((text) => ({ index, text }));
  });
}

/** Which files contain which secrets (by line number in secrets.txt, never by value). */
export function findLeaks(roots: string[], secrets: string[], skip: string[] = []): string[] {
  const wanted = needles(secrets.filter((s) => s.length >= MIN_SECRET));
  const leaks: string[] = [];
  for (const root of roots) {
    for (const file of files(root)) {
      if (skip.includes(file) || statSync(file).size > 64 * 1024 * 1024) continue;
      const text = readFileSync(file, 'latin1');
      const hits = [...new Set(wanted.filter((n) => text.includes(n.text)).map((n) => n.index + 1))];
      if (hits.length) leaks.push(`${relative(repo, file)} contains secret line(s) ${hits.join(', ')} of secrets.txt`);
    }
  }
  return leaks;
}

function recordedSecrets(): string[] {
  if (!existsSync(secretsFile)) return [];
  return [...new Set(readFileSync(secretsFile, 'utf8').split('\n').map((l) => l.trim()))].filter(Boolean);
}

describe('secret scan', () => {
  it('finds a planted secret, plain or base64-encoded, without reporting its value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-scan-'));
    try {
      writeFileSync(join(dir, 'clean.log'), 'connected; nothing to see\n');
      writeFileSync(join(dir, 'plain.log'), 'password=hunter2-planted\n');
      writeFileSync(join(dir, 'encoded.jsonl'), `{"pw":"${Buffer.from('other-planted-secret').toString('base64')}"}\n`);
      const leaks = findLeaks([dir], ['hunter2-planted', 'other-planted-secret', 'short']);
      expect(leaks).toHaveLength(2);
      expect(leaks.join('\n')).toMatch(/plain\.log contains secret line\(s\) 1/);
      expect(leaks.join('\n')).toMatch(/encoded\.jsonl contains secret line\(s\) 2/);
      expect(leaks.join('\n')).not.toContain('hunter2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('no test output or log contains a secret a test generated', () => {
    const secrets = recordedSecrets();
    if (process.env.CAUSEWAY_REQUIRE_ALL_SUITES === '1') {
      // In the full run the integration suites have recorded their secrets; none means the
      // convention broke and the scan would prove nothing.
      expect(secrets.length).toBeGreaterThan(0);
    }
    const leaks = findLeaks([results, logDir()], secrets, [secretsFile]);
    expect(leaks).toEqual([]);
  });
});
