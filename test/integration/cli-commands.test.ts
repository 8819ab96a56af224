// The bundled CLI's connect exit codes, cert and logout commands, without a tunnel: the helper is
// the scripted stand-in (main/helper/testing/fake-helper.mjs), secrets go to a real gnome-keyring.
// (cli-connect.test.ts runs the same commands against the real helper and openvpn servers.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createPki, type Pki } from '../peers/lab/pki.js';
import { startTestKeyring, type TestKeyring } from '../support/keyring.js';
import { runCli, type CliResult } from '../support/run-cli.js';

const repo = resolve(import.meta.dirname, '..', '..');
const cliPath = join(repo, 'bin', 'causeway.cjs');
const fakeHelper = join(repo, 'main', 'helper', 'testing', 'fake-helper.mjs');
const results = join(repo, 'test-results', 'cli-commands');
const P12_PASSWORD = randomBytes(9).toString('base64url');
const KEY_PASSPHRASE = randomBytes(9).toString('base64url');

let home: string;
let pki: Pki;
let keyring: TestKeyring;

function recordSecret(...values: string[]): void {
  for (const v of values) {
    for (const line of v.split('\n').map((l) => l.trim())) {
      if (line.length >= 6 && !line.startsWith('-----')) appendFileSync(join(repo, 'test-results', 'secrets.txt'), `${line}\n`);
    }
  }
}

/** The environment of the user's CLI: their home, their keyring, the scripted helper. */
function userEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_RUNTIME_DIR: join(home, 'run'),
    DBUS_SESSION_BUS_ADDRESS: keyring.env.DBUS_SESSION_BUS_ADDRESS,
    CAUSEWAY_HELPER: fakeHelper,
  };
}

function cli(args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const env = { ...userEnv(), ...options.env };
  return runCli(args, { env, input: options.input, timeoutMs: 30_000, log: join(results, 'outputs.log') });
}

/** `causeway connect cert --json-events` left running once it reports connected; `out()` is its output so far. */
async function connectedCert(): Promise<{ child: ChildProcess; exited: Promise<number | null>; out: () => string }> {
  const child = spawn(process.execPath, [cliPath, 'connect', 'cert', '--json-events'], { env: userEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  await expect.poll(() => out.includes('"phase":"connected"'), { timeout: 10_000 }).toBe(true);
  return { child, exited, out: () => out };
}

function profileFile(name: string, body: string): string {
  const file = join(home, `${name}.ovpn`);
  writeFileSync(file, `client\nremote vpn.example.test 1194 udp\n${body}\n<ca>\n${pki.ca}</ca>\n`);
  return file;
}

beforeAll(async () => {
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  home = mkdtempSync(join(tmpdir(), 'cw-cli-cmds-'));
  mkdirSync(join(home, 'run'), { mode: 0o700 });
  [pki, keyring] = await Promise.all([createPki(join(home, 'pki')), startTestKeyring()]);
  recordSecret(keyring.password, P12_PASSWORD, KEY_PASSPHRASE, pki.clientEc.key, pki.clientRsa.key);
  for (const [name, body] of [
    ['pw', 'auth-user-pass'],
    ['cert', `<cert>\n${pki.clientEc.cert}</cert>\n<key>\n${pki.clientEc.key}</key>`],
  ] as const) {
    expect((await cli(['import', profileFile(name, body), '--name', name])).code).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  await keyring?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('causeway connect exit status', () => {
  it('1 for an unknown profile or bad arguments', async () => {
    expect((await cli(['connect', 'nope'])).code).toBe(1);
    expect((await cli(['connect'])).code).toBe(1);
    expect((await cli(['connect', 'pw', '--bogus'])).code).toBe(1);
  });

  it('3 for a rejected password, quickly, with the reason and next step on stderr', async () => {
    const r = await cli(['connect', 'pw'], { input: 'alice\nwrong-password-here\nn\n' });
    expect(r.code).toBe(3);
    expect(r.ms).toBeLessThan(5_000);
    expect(r.stdout).toMatch(/waiting for your username and password/);
    expect(r.stderr).toMatch(/The server rejected your credentials\. Check your username/);
    expect(`${r.stdout}${r.stderr}`).not.toContain('wrong-password-here');
  });

  it('3 when the prompt gets no answer (stdin closed)', async () => {
    expect((await cli(['connect', 'pw'])).code).toBe(3);
  });

  it('4 for an unreachable server, 5 when the helper cannot run', async () => {
    expect((await cli(['connect', 'cert'], { env: { FAKE_HELPER: 'unreachable' } })).code).toBe(4);
    const r = await cli(['connect', 'cert', '--json-events'], { env: { CAUSEWAY_HELPER: '/nonexistent/causeway-helper' } });
    expect(r.code).toBe(5);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; state?: { reason: string }; code?: number });
    expect(events.find((e) => e.event === 'state' && e.state?.reason)?.state?.reason).toBe('helper-unavailable');
    expect(events.at(-1)).toEqual({ event: 'exit', code: 5 });
  });

  it('0 after a clean disconnect, with JSON events for every step', async () => {
    const { child, exited, out } = await connectedCert();
    const status = await cli(['status', '--json']);
    expect(JSON.parse(status.stdout).sessions).toHaveLength(1);
    const twice = await cli(['connect', 'cert']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/"cert" is already connected by process \d+/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const events = out().trim().split('\n').map((l) => JSON.parse(l) as { event: string; phase?: string });
    expect(events.filter((e) => e.event === 'state').map((e) => e.phase)).toEqual([
      'resolving', 'connecting', 'authenticating', 'connected', 'disconnecting', 'idle',
    ]);
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['pushed', 'banner', 'stats', 'exit']));
    expect((await cli(['status'])).stdout).toMatch(/No connections/);
    expect((await cli(['disconnect', 'cert'])).code).toBe(1);
  });
});

describe('causeway connect and its terminal going away', () => {
  it('disconnects cleanly on SIGHUP', async () => {
    const { child, exited, out } = await connectedCert();
    child.kill('SIGHUP');
    expect(await exited).toBe(0);
    expect(out()).toMatch(/"phase":"disconnecting"[\s\S]*"phase":"idle"/);
  });
});

describe('causeway connect on a terminal', () => {
  it('echoes the username but never the password', async () => {
    // `script` gives the CLI a real pseudo-terminal; answers are typed only once each question shows.
    const secret = `tty-${randomBytes(6).toString('hex')}`;
    recordSecret(secret);
    const child = spawn('script', ['-q', '-e', '-c', `${process.execPath} ${cliPath} connect pw`, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: join(home, 'run'), DBUS_SESSION_BUS_ADDRESS: keyring.env.DBUS_SESSION_BUS_ADDRESS, CAUSEWAY_HELPER: fakeHelper, FAKE_PASSWORD: secret, TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    const typeAfter = async (question: string, text: string) => {
      await expect.poll(() => screen.includes(question), { timeout: 10_000 }).toBe(true);
      await new Promise((r) => setTimeout(r, 200)); // let the CLI switch the terminal mode first
      child.stdin.write(`${text}\r`);
    };
    await typeAfter('Username: ', 'alice-on-tty');
    await typeAfter('Password: ', secret);
    await typeAfter('Remember the password', 'n');
    await expect.poll(() => screen.includes('connected to'), { timeout: 10_000 }).toBe(true);
    child.kill('SIGTERM');
    await exited;
    appendFileSync(join(results, 'tty-screen.log'), screen);
    expect(screen).toContain('alice-on-tty');
    expect(screen).toMatch(/Remember the password\? \[y\/N\]: n\r?\n/); // typed answers are echoed
    expect(screen).not.toContain(secret);
  });
});

describe('causeway cert', () => {
  it('imports a PKCS#12 with its password, lists, shows, and removes it', async () => {
    const p12 = join(home, 'id.p12');
    execFileSync('openssl', ['pkcs12', '-export', '-in', pki.clientRsa.certPath, '-inkey', pki.clientRsa.keyPath, '-out', p12, '-passout', `pass:${P12_PASSWORD}`]);
    const wrong = await cli(['cert', 'import', p12], { input: 'not-it\n' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/wrong password for this PKCS#12 file\. Try again\.\nPassword of the PKCS#12 file: /);
    const ok = await cli(['cert', 'import', p12, '--name', 'Laptop'], { input: `not-it\n${P12_PASSWORD}\n` });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/Imported "Laptop" \(id laptop-[0-9a-f]+\): CN=client-rsa, valid until \d{4}-\d\d-\d\d/);
    const list = JSON.parse((await cli(['cert', 'list', '--json'])).stdout) as { certificates: { name: string; keyType: string; status: string }[] };
    expect(list.certificates).toEqual([expect.objectContaining({ name: 'Laptop', keyType: 'RSA 2048', status: 'valid' })]);
    const show = await cli(['cert', 'show', 'Laptop']);
    expect(show.stdout).toMatch(/subject +CN=client-rsa\nissuer +CN=Causeway Lab CA\n/);
    expect(show.stdout).toMatch(/sha256 +([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    expect(show.stdout).not.toMatch(/PRIVATE KEY/);
    expect((await cli(['cert', 'remove', 'Laptop'])).code).toBe(0);
    expect((await cli(['cert', 'list'])).stdout).toMatch(/No certificates/);
  });

  it('imports a PEM pair with an encrypted key, asking the passphrase', async () => {
    const keyFile = join(home, 'enc.key');
    writeFileSync(keyFile, execFileSync('openssl', ['pkey', '-in', pki.clientEc.keyPath, '-aes256', '-passout', `pass:${KEY_PASSPHRASE}`]));
    const r = await cli(['cert', 'import', pki.clientEc.certPath, '--key', keyFile, '--attach', 'pw'], { input: `${KEY_PASSPHRASE}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Attached to profile pw/);
    expect(JSON.parse((await cli(['show', 'pw', '--json'])).stdout)).toMatchObject({ hasKey: true, auth: { kind: 'certificate+password' } });
  });

  it('without a keyring, refuses to import a key when no passphrase is given for the secret file', async () => {
    const r = await cli(['cert', 'import', pki.clientRsa.certPath, '--key', pki.clientRsa.keyPath], { env: { DBUS_SESSION_BUS_ADDRESS: '' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No keyring answers/);
    expect(r.stderr).toMatch(/causeway: no passphrase was given for Causeway's secret file/);
    expect(r.stderr).not.toMatch(/unexpected error/);
  });
});

describe('causeway logout', () => {
  it('forgets a remembered password so the next connect asks again', async () => {
    const connected = await cli(['connect', 'pw', '--json-events'], { input: `alice\nright\ny\n`, env: { FAKE_HELPER: 'crash-after-connect' } });
    // The scripted helper dies right after connecting; the password was accepted and remembered.
    expect(connected.stdout).toContain('"phase":"connected"');
    const out = await cli(['logout', 'pw']);
    expect(out.stdout).toBe('pw: saved password forgotten.\n');
    expect((await cli(['logout', 'pw'])).stdout).toBe('pw: nothing was saved.\n');
    const again = await cli(['connect', 'pw'], { input: 'alice\nwrong-again\nn\n' });
    expect(again.stdout).toMatch(/waiting for your username and password/);
    expect(again.code).toBe(3);
    expect(readFileSync(join(results, 'outputs.log'), 'utf8')).not.toContain(KEY_PASSPHRASE);
  });
});
