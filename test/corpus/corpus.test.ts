// Every profile of the corpus goes through `causeway import --json` (the command itself, with
// a temporary XDG_CONFIG_HOME) and must get the verdict manifest.json records: imported or
// refused, the sign-in kind, which directives were stripped with a warning, and each reason
// for a refusal. Hostile inputs too large or too odd to commit are generated here. It runs as on
// a machine with no keyring at all: no session bus, so secrets go to the encrypted file store.
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSED, STRIPPED } from '../../app/profile/directive-policy.js';
import { runCli } from '../../main/cli/run.js';
import { FileSecretStore } from '../../main/secrets/file-store.js';

const corpus = dirname(fileURLToPath(import.meta.url));
const pki = (f: string) => readFileSync(join(corpus, 'pki', f), 'utf8');
const keyBody = pki('client.key').split('\n')[1]!;

interface Expected {
  verdict: 'imported' | 'refused';
  auth?: string;
  aws?: boolean;
  warnings: (string | null)[];
  errors?: string[];
  /** Lines on stdin: the passphrases typed for a locked key (none: stdin is empty). */
  answers?: string[];
}
const manifest = JSON.parse(readFileSync(join(corpus, 'manifest.json'), 'utf8')) as Record<string, Expected>;

interface ImportJson {
  ok: boolean;
  secretStore: string | null;
  profile: { id: string; auth: { kind: string }; isAws: boolean; hasKey: boolean } | null;
  warnings: { line: number | null; directive: string | null; message: string }[];
  errors: { line: number | null; directive: string | null; message: string }[];
}

const PASSPHRASE = 'corpus file-store passphrase';
let home: string;
let secrets: FileSecretStore;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cw-corpus-'));
  secrets = new FileSecretStore(FileSecretStore.defaultPath({}, home), async () => PASSPHRASE);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Runs `causeway <args>` in-process with the test's config folder and no keyring anywhere. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}, answers: string[] = []) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdin: Readable.from(answers.map((a) => `${a}\n`)) as unknown as NodeJS.ReadStream,
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), DBUS_SESSION_BUS_ADDRESS: '', CAUSEWAY_SECRET_PASSPHRASE: PASSPHRASE, ...env },
    cwd: corpus,
  });
  return { code, stdout, stderr };
}

async function importJson(file: string, answers: string[] = []) {
  const r = await cli(['import', file, '--json'], {}, answers);
  // A passphrase question is announced as one event line before the result.
  const events = r.stdout.split('\n').filter((l) => l.startsWith('{"event"'));
  const result = r.stdout.split('\n').filter((l) => !l.startsWith('{"event"')).join('\n');
  return { ...r, events: events.map((l) => JSON.parse(l) as { event: string; kind: string }), json: JSON.parse(result) as ImportJson };
}

function profileFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return profileFiles(full);
    return /\.(ovpn|conf)$/.test(e.name) ? [relative(corpus, full)] : [];
  });
}

/** A seeded generator, so generated garbage (and so its verdict) is the same on every run. */
function seeded(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const validBase = () => `client\nremote vpn.example.com 1194\nremote-cert-tls server\nauth-user-pass\n<ca>\n${pki('ca.crt')}</ca>\n`;
const routeLines = (n: number) => Array.from({ length: n }, (_, i) => `route 10.${(i >> 8) & 255}.${i & 255}.0 255.255.255.0\n`).join('');

/**
 * Inputs too large or too odd to commit: `generated/<name>` entries of the manifest are written
 * here, into the test's temporary folder, before they are imported.
 */
const generators: Record<string, (dir: string) => Uint8Array | string> = {
  'nul-byte.ovpn': () => Buffer.concat([Buffer.from('client\nremote a\n'), Buffer.from([0]), Buffer.from('x\n')]),
  'utf16le-bom.ovpn': () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(validBase(), 'utf16le')]),
  'utf16le-no-bom.ovpn': () => Buffer.from(validBase(), 'utf16le'),
  'latin1.ovpn': () => Buffer.from(`${validBase()}# Zürich\n`, 'latin1'),
  'garbage-10mb.ovpn': () => {
    const next = seeded(10);
    return new Uint8Array(10 * 1024 * 1024).map(() => Math.floor(next() * 256));
  },
  'garbage-text-6mb.ovpn': () => {
    const next = seeded(6);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 \t"\'\\#;<>/-\n';
    return Buffer.from(Array.from({ length: 6 * 1024 * 1024 }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''));
  },
  'routes-100k.ovpn': () => validBase() + routeLines(100_000),
  'one-megabyte-4000-routes.ovpn': () => {
    let text = validBase() + routeLines(4000);
    while (text.length < 1024 * 1024) text += `# ${'padding '.repeat(15)}\n`;
    return text;
  },
  'symlink-out.ovpn': (dir) => {
    writeFileSync(join(dir, '..', 'outside.crt'), pki('ca.crt'));
    symlinkSync(join(dir, '..', 'outside.crt'), join(dir, 'ca-link.crt'));
    return 'client\nremote vpn.example.com\nauth-user-pass\nca ca-link.crt\n';
  },
  'fifo.ovpn': (dir) => {
    execFileSync('mkfifo', [join(dir, 'ca.fifo')]);
    return 'client\nremote vpn.example.com\nauth-user-pass\nca ca.fifo\n';
  },
  'device.ovpn': (dir) => {
    symlinkSync('/dev/zero', join(dir, 'ca-dev.crt'));
    return 'client\nremote vpn.example.com\nauth-user-pass\nca ca-dev.crt\n';
  },
};

describe('the corpus manifest', () => {
  it('lists every committed profile and every generated input, and only those', () => {
    const files = ['real-world', 'hostile', 'broken'].flatMap((d) => profileFiles(join(corpus, d)));
    const generated = Object.keys(generators).map((g) => `generated/${g}`);
    expect(Object.keys(manifest).sort()).toEqual([...files, ...generated].sort());
  });

  it('covers every sign-in kind AWS exports and real-world refusals', () => {
    const kinds = new Set(Object.entries(manifest).filter(([f]) => f.startsWith('real-world/aws')).map(([, e]) => e.auth));
    expect(kinds).toEqual(new Set(['certificate', 'password', 'static-challenge', 'aws-saml']));
  });
});

/** The file to import for a manifest entry: committed, or generated now. */
function materialize(entry: string): string {
  if (!entry.startsWith('generated/')) return entry;
  const dir = mkdtempSync(join(home, 'generated-'));
  const name = entry.slice('generated/'.length);
  const file = join(dir, name);
  writeFileSync(file, generators[name]!(dir));
  return file;
}

describe.each(Object.entries(manifest))('causeway import %s', (file, expected) => {
  it(`is ${expected.verdict}`, async () => {
    const path = materialize(file);
    const started = performance.now();
    const { code, stdout, stderr, json, events } = await importJson(path, expected.answers);
    expect(events.map((e) => e.kind)).toEqual((expected.answers ?? []).map(() => 'passphrase'));
    const ms = performance.now() - started;
    // Every verdict comes quickly, whatever the input (10 MB of garbage, 100 000 routes, …); the
    // bounds are generous for a loaded 2-core CI machine (typical figures are in the log line).
    expect(ms).toBeLessThan(file === 'generated/one-megabyte-4000-routes.ovpn' ? 3000 : 10_000);
    if (file.startsWith('generated/')) {
      console.log(`${file} (${(statSync(path).size / 1024 / 1024).toFixed(2)} MB): ${expected.verdict} in ${ms.toFixed(0)} ms`);
    }
    expect(json.warnings.map((w) => w.directive)).toEqual(expected.warnings);
    // Key material never reaches the user's terminal.
    expect(stdout + stderr).not.toContain('PRIVATE KEY');
    expect(stdout + stderr).not.toContain(keyBody);
    if (expected.verdict === 'imported') {
      expect(code).toBe(0);
      expect(json.ok).toBe(true);
      expect(json.errors).toEqual([]);
      expect(json.profile!.auth.kind).toBe(expected.auth);
      expect(json.profile!.isAws).toBe(expected.aws);
      const stored = readFileSync(join(home, 'config', 'Causeway', 'profiles', `${json.profile!.id}.json`), 'utf8');
      expect(stored).not.toContain('PRIVATE KEY');
      expect(stored).not.toMatch(/OpenVPN (Static key|tls-crypt-v2 client key)/);
      expect(json.secretStore).toBe('file');
      if (json.profile!.hasKey) expect(await secrets.get(`profile/${json.profile!.id}/key`)).toContain('PRIVATE KEY');
    } else {
      expect(code).toBe(1);
      expect(json.ok).toBe(false);
      expect(json.profile).toBeNull();
      const shown = json.errors.map((e) => (e.line !== null ? `line ${e.line}: ` : '') + e.message);
      expect(shown.length).toBe(expected.errors!.length);
      expected.errors!.forEach((prefix, i) => expect(shown[i]!.slice(0, prefix.length)).toBe(prefix));
      // The reasons are on stderr too, for people who did not ask for JSON.
      expect(stderr).toContain('was not imported');
      for (const e of json.errors) expect(stderr).toContain(e.message);
    }
  });
});

describe('every directive of the policy tables', () => {
  const base = `client\nremote vpn.example.com\nremote-cert-tls server\nauth-user-pass\n<ca>\n${pki('ca.crt')}</ca>\n`;
  let dir: string;
  beforeAll(() => {
    dir = join(home, 'directives');
    mkdirSync(dir);
  });

  it.each([...STRIPPED.keys()])('%s is stripped with a warning that says why', async (name) => {
    const file = join(dir, `strip-${name}.ovpn`);
    writeFileSync(file, `${base}${name} /tmp/x\n`);
    const { code, json } = await importJson(file);
    expect(code).toBe(0);
    expect(json.warnings).toEqual([{ line: 6 + pki('ca.crt').split('\n').length, directive: name, message: `${name} was removed: ${STRIPPED.get(name)}` }]);
  });

  it.each([...REFUSED.keys()])('%s refuses the profile with the reason', async (name) => {
    const file = join(dir, `refuse-${name}.ovpn`);
    writeFileSync(file, `${base}${name} x\n`);
    const { code, json } = await importJson(file);
    expect(code).toBe(1);
    expect(json.errors).toContainEqual({ line: 6 + pki('ca.crt').split('\n').length, directive: name, message: `${name} ${REFUSED.get(name)}` });
  });
});
