// Every profile of the corpus goes through `causeway import --json` (the command itself, with
// a temporary XDG_CONFIG_HOME) and must get the verdict manifest.json records: imported or
// refused, the sign-in kind, which directives were stripped with a warning, and each reason
// for a refusal. Hostile inputs too large or too odd to commit are generated here.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REFUSED, STRIPPED } from '../../app/profile/policy.js';
import { runCli } from '../../main/cli/run.js';
import { keepingSecretStore, type InspectableSecretStore } from './support/secrets.js';

const corpus = dirname(fileURLToPath(import.meta.url));
const pki = (f: string) => readFileSync(join(corpus, 'pki', f), 'utf8');
const keyBody = pki('client.key').split('\n')[1]!;

interface Expected {
  verdict: 'imported' | 'refused';
  auth?: string;
  aws?: boolean;
  warnings: (string | null)[];
  errors?: string[];
}
const manifest = JSON.parse(readFileSync(join(corpus, 'manifest.json'), 'utf8')) as Record<string, Expected>;

interface ImportJson {
  ok: boolean;
  profile: { id: string; auth: { kind: string }; isAws: boolean; hasKey: boolean } | null;
  warnings: { line: number | null; directive: string | null; message: string }[];
  errors: { line: number | null; directive: string | null; message: string }[];
}

let home: string;
let secrets: InspectableSecretStore;
beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'cw-corpus-'));
  secrets = keepingSecretStore();
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Runs `causeway <args>` in-process with the test's config folder and a keyring-like store. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), ...env },
    cwd: corpus,
    openSecrets: async () => secrets,
  });
  return { code, stdout, stderr };
}

async function importJson(file: string) {
  const r = await cli(['import', file, '--json']);
  return { ...r, json: JSON.parse(r.stdout) as ImportJson };
}

function profileFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return profileFiles(full);
    return /\.(ovpn|conf)$/.test(e.name) ? [relative(corpus, full)] : [];
  });
}

describe('the corpus manifest', () => {
  it('lists every committed profile, and only those', () => {
    const files = ['real-world', 'hostile', 'broken'].flatMap((d) => profileFiles(join(corpus, d))).sort();
    expect(Object.keys(manifest).sort()).toEqual(files);
  });

  it('covers every sign-in kind AWS exports and real-world refusals', () => {
    const kinds = new Set(Object.entries(manifest).filter(([f]) => f.startsWith('real-world/aws')).map(([, e]) => e.auth));
    expect(kinds).toEqual(new Set(['certificate', 'password', 'static-challenge', 'aws-saml']));
  });
});

describe.each(Object.entries(manifest))('causeway import %s', (file, expected) => {
  it(`is ${expected.verdict}`, async () => {
    const { code, stdout, stderr, json } = await importJson(file);
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
      if (json.profile!.hasKey) expect(secrets.entries.get(`profile/${json.profile!.id}/key`)).toContain('PRIVATE KEY');
    } else {
      expect(code).toBe(1);
      expect(json.ok).toBe(false);
      expect(json.profile).toBeNull();
      const shown = json.errors.map((e) => (e.line !== null ? `line ${e.line}: ` : '') + e.message);
      expect(shown.length).toBe(expected.errors!.length);
      expected.errors!.forEach((prefix, i) => expect(shown[i]!.startsWith(prefix)).toBe(true));
      // The reasons are on stderr too, for people who did not ask for JSON.
      expect(stderr).toContain('was not imported');
      for (const e of json.errors) expect(stderr).toContain(e.message);
    }
  });
});

describe('every directive of the policy tables', () => {
  const base = `client\nremote vpn.example.com\nauth-user-pass\n<ca>\n${pki('ca.crt')}</ca>\n`;
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
    expect(json.warnings).toEqual([{ line: 5 + pki('ca.crt').split('\n').length, directive: name, message: `${name} was removed: ${STRIPPED.get(name)}` }]);
  });

  it.each([...REFUSED.keys()])('%s refuses the profile with the reason', async (name) => {
    const file = join(dir, `refuse-${name}.ovpn`);
    writeFileSync(file, `${base}${name} x\n`);
    const { code, json } = await importJson(file);
    expect(code).toBe(1);
    expect(json.errors).toContainEqual({ line: 5 + pki('ca.crt').split('\n').length, directive: name, message: `${name} ${REFUSED.get(name)}` });
  });
});

describe('generated hostile input', () => {
  let dir: string;
  beforeAll(() => {
    dir = join(home, 'generated');
    mkdirSync(dir);
  });
  const valid = () => `client\nremote vpn.example.com 1194\nauth-user-pass\n<ca>\n${pki('ca.crt')}</ca>\n`;

  async function refusedWith(name: string, content: Uint8Array | string, reason: RegExp) {
    const file = join(dir, name);
    writeFileSync(file, content);
    const started = performance.now();
    const { code, json, stderr } = await importJson(file);
    expect(code).toBe(1);
    expect(json.errors.map((e) => e.message).join('\n')).toMatch(reason);
    expect(stderr).toMatch(reason);
    return performance.now() - started;
  }

  it('NUL bytes, UTF-16 with and without BOM, invalid UTF-8', async () => {
    await refusedWith('nul.ovpn', Buffer.concat([Buffer.from('client\nremote a\n'), Buffer.from([0]), Buffer.from('x\n')]), /NUL byte/);
    await refusedWith('utf16-bom.ovpn', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(valid(), 'utf16le')]), /UTF-16/);
    await refusedWith('utf16-nobom.ovpn', Buffer.from(valid(), 'utf16le'), /UTF-16/);
    await refusedWith('latin1.ovpn', Buffer.from(`${valid()}# Zürich\n`, 'latin1'), /not valid UTF-8/);
  });

  it('10 MB of garbage is refused without being read as a profile', async () => {
    const ms = await refusedWith('garbage-10mb.ovpn', new Uint8Array(10 * 1024 * 1024).map(() => Math.floor(Math.random() * 256)), /profiles larger than 8 MiB/);
    expect(ms).toBeLessThan(3000);
  });

  it('6 MB of printable garbage gets a verdict in well under the limit', async () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789 \t"\'\\#;<>/-\n';
    let text = '';
    while (text.length < 6 * 1024 * 1024) text += Array.from({ length: 4096 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
    const file = join(dir, 'garbage-text.ovpn');
    writeFileSync(file, text);
    const started = performance.now();
    const { code } = await importJson(file);
    expect(code).toBe(1);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('100 000 routes are refused', async () => {
    const routes = Array.from({ length: 100_000 }, (_, i) => `route 10.${(i >> 8) & 255}.${i & 255}.0 255.255.255.0\n`).join('');
    const ms = await refusedWith('routes-100k.ovpn', valid() + routes, /lists 100000 routes; at most 4096 are accepted/);
    expect(ms).toBeLessThan(3000);
  });

  it('references through a symlink out of the folder, to a FIFO, or to a device are refused', async () => {
    const folder = join(dir, 'refs');
    mkdirSync(folder);
    writeFileSync(join(home, 'outside.crt'), pki('ca.crt'));
    symlinkSync(join(home, 'outside.crt'), join(folder, 'ca-link.crt'));
    execFileSync('mkfifo', [join(folder, 'ca.fifo')]);
    symlinkSync('/dev/zero', join(folder, 'ca-dev.crt'));
    const profile = (ref: string) => `client\nremote vpn.example.com\nauth-user-pass\nca ${ref}\n`;
    await refusedWith('refs/symlink.ovpn', profile('ca-link.crt'), /symbolic link that points outside/);
    await refusedWith('refs/fifo.ovpn', profile('ca.fifo'), /not a regular file/);
    await refusedWith('refs/device.ovpn', profile('ca-dev.crt'), /symbolic link that points outside/);
  });

  it('a 1 MB profile imports well under a second', async () => {
    const routes = Array.from({ length: 4000 }, (_, i) => `route 10.${(i >> 8) & 255}.${i & 255}.0 255.255.255.0\n`).join('');
    let text = valid() + routes;
    const comment = `# ${'padding '.repeat(15)}\n`;
    while (text.length < 1024 * 1024) text += comment;
    const file = join(dir, 'one-megabyte.ovpn');
    writeFileSync(file, text);
    expect(statSync(file).size).toBeGreaterThanOrEqual(1024 * 1024);
    const started = performance.now();
    const { code, json } = await importJson(file);
    const ms = performance.now() - started;
    expect(code).toBe(0);
    expect(json.ok).toBe(true);
    console.log(`import of a ${(statSync(file).size / 1024 / 1024).toFixed(2)} MB profile (4000 routes): ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(3000);
  });
});
