// `causeway connect` end to end, as a user runs it: the bundled CLI (bin/causeway.cjs) in the
// lab's client namespace, the real causeway-helper it spawns, stock openvpn servers in the server
// namespace, profiles imported with `causeway import` and keys in a real gnome-keyring.
// Covers certificate, password, static-challenge (SCRV1) and CRV1 logins; ping through the
// tunnel; `causeway status` / `causeway disconnect` from another process restoring routes; a
// wrong password failing fast; SIGKILL of the helper mid-session; and connecting through real
// HTTP (squid, Basic auth) and SOCKS5 (dante) proxies when the server is reachable only that way.
//
// Secret-scan convention: every secret made here goes to test-results/secrets.txt and every CLI
// output and log to test-results/cli-connect/, which test/integration/secret-scan.test.ts checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Lab, LineSplitter, type LabServer } from '../peers/lab/index.js';
import { run } from '../peers/lab/exec.js';
import { startTestKeyring, type TestKeyring } from '../support/keyring.js';
import { serverHandshakes } from './engine-support.js';
import { runCli, stopLeftoverConnects } from '../support/run-cli.js';

const repo = resolve(import.meta.dirname, '..', '..');
const cliPath = join(repo, 'bin', 'causeway.cjs');
const helperPath = join(repo, 'native', 'target', 'release', 'causeway-helper');
const results = join(repo, 'test-results', 'cli-connect');
const OTP = String(100000 + (randomBytes(3).readUIntBE(0, 3) % 900000));
const PIN = randomBytes(4).toString('hex');
const P12_PASSWORD = randomBytes(9).toString('base64url');
const KEY_PASSPHRASE = randomBytes(9).toString('base64url');

let lab: Lab;
let keyring: TestKeyring;
let home: string;
let env: NodeJS.ProcessEnv;
let baselineRoutes: string[];
const servers: Record<'cert' | 'password' | 'mfa' | 'crv1', LabServer> = {} as never;

function recordSecret(...values: string[]): void {
  mkdirSync(join(repo, 'test-results'), { recursive: true });
  for (const v of values) {
    // Multi-line secrets (PEM keys) are recorded line by line, so a fragment is caught too.
    for (const line of v.split('\n').map((l) => l.trim())) {
      if (line.length >= 6 && !line.startsWith('-----')) appendFileSync(join(repo, 'test-results', 'secrets.txt'), `${line}\n`);
    }
  }
}

function writeScript(name: string, body: string): string {
  const path = join(lab.dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o700 });
  return path;
}

/** Server lines for a custom auth-user-pass-verify script (no client certificate). */
function scriptAuth(script: string): string[] {
  return ['script-security 2', `auth-user-pass-verify ${script} via-file`, `tmp-dir ${lab.dir}`, 'verify-client-cert none', 'username-as-common-name'];
}

function profileText(server: LabServer, body: string): string {
  return [
    'client',
    'dev tun',
    `proto ${server.info.options.proto}`,
    `remote ${server.info.address} ${server.info.port}`,
    'remote-cert-tls server',
    'connect-retry 1 5',
    body,
    `<ca>\n${lab.pki.ca}</ca>`,
    '',
  ].join('\n');
}

/** Runs the CLI to completion (outside the namespace: import, status, disconnect, logs). */
function cli(args: string[], input = '') {
  return runCli(args, { env, input, log: join(results, 'cli-commands.log') });
}

interface Event {
  event: string;
  [k: string]: unknown;
}

/** A running `causeway connect --json-events` in the client namespace. */
class Connect {
  readonly events: Event[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];
  private stderr = '';

  constructor(readonly profile: string) {
    this.child = spawn('ip', ['netns', 'exec', lab.netns.client, process.execPath, cliPath, 'connect', profile, '--json-events'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const lines = new LineSplitter((line) => {
      appendFileSync(join(results, `connect-${profile}.jsonl`), `${line}\n`);
      this.events.push(JSON.parse(line) as Event);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stdout!.on('data', (d: Buffer) => lines.push(d));
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      appendFileSync(join(results, `connect-${profile}.stderr`), d);
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    this.child.stdin!.on('error', () => undefined);
  }

  get pid(): number {
    return this.child.pid!;
  }

  answer(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Closes stdin, as a script that has given all its answers does. */
  endInput(): void {
    this.child.stdin!.end();
  }

  phases(): string[] {
    return this.events.filter((e) => e.event === 'state').map((e) => e.phase as string);
  }

  /** Waits for an event matching `match`, counting from event index `from`. */
  async waitFor(match: (e: Event) => boolean, timeoutMs = 30_000, from = 0): Promise<Event> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no matching event within ${timeoutMs} ms; events: ${this.events.map((e) => e.phase ?? e.event).join(' ')}; stderr: ${this.stderr}`);
      }
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), new Promise((r) => setTimeout(r, 250))]);
    }
  }

  waitForPhase(phase: string, timeoutMs = 30_000, from = 0): Promise<Event> {
    return this.waitFor((e) => e.event === 'state' && e.phase === phase, timeoutMs, from);
  }

  /** Ends the process the way a user would (SIGTERM: clean disconnect), forcefully if it hangs. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.kill(), 15_000);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
const running = new Set<Connect>();
function connect(profile: string): Connect {
  const c = new Connect(profile);
  running.add(c);
  return c;
}

async function disconnectAndCheck(c: Connect): Promise<void> {
  const r = await cli(['disconnect', c.profile]);
  expect(r.stdout).toContain('disconnected');
  expect(await c.exited).toBe(0);
  expect(await lab.clientDevices()).toEqual([]);
  expect(await lab.clientRoutes()).toEqual(baselineRoutes);
}

beforeAll(async () => {
  if (!existsSync(helperPath)) throw new Error(`${helperPath} is missing: run npm run build:native`);
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  [lab, keyring] = await Promise.all([Lab.create(), startTestKeyring()]);
  home = mkdtempSync(join(tmpdir(), 'cw-cli-home-'));
  env = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_RUNTIME_DIR: join(home, 'run'),
    DBUS_SESSION_BUS_ADDRESS: keyring.env.DBUS_SESSION_BUS_ADDRESS,
    CAUSEWAY_HELPER: helperPath,
  };
  mkdirSync(join(home, 'run'), { mode: 0o700 });
  recordSecret(keyring.password, lab.credentials.password, OTP, PIN, P12_PASSWORD, KEY_PASSPHRASE, lab.pki.clientEc.key, lab.pki.clientRsa.key);
  const { username, password } = lab.credentials;
  const mfa = writeScript(
    'verify-mfa.sh',
    [
      'user=$(sed -n 1p "$1"); pass=$(sed -n 2p "$1")',
      'case "$pass" in SCRV1:*) ;; *) exit 1 ;; esac',
      'pw=$(printf %s "$pass" | cut -d: -f2 | base64 -d); otp=$(printf %s "$pass" | cut -d: -f3 | base64 -d)',
      `[ "$user" = '${username}' ] && [ "$pw" = '${password}' ] && [ "$otp" = '${OTP}' ]`,
    ].join('\n'),
  );
  const crv1 = writeScript(
    'verify-crv1.sh',
    [
      'user=$(sed -n 1p "$1"); pass=$(sed -n 2p "$1")',
      `[ "$user" = '${username}' ] && [ "$pass" = 'CRV1::lab-state-1::${PIN}' ] && exit 0`,
      `if [ "$user" = '${username}' ] && [ "$pass" = '${password}' ]; then`,
      `  printf 'CRV1:R,E:lab-state-1:%s:Enter the PIN we sent you' "$(printf %s '${username}' | base64)" > "$auth_failed_reason_file"`,
      '  echo 0 > "$auth_control_file"',
      '  exit 2',
      'fi',
      'exit 1',
    ].join('\n'),
  );
  servers.cert = await lab.startServer({ proto: 'udp', push: ['route 10.123.0.0 255.255.0.0'], extra: ['push "echo Welcome to the lab"'] });
  servers.password = await lab.startServer({ proto: 'tcp', clientAuth: 'password' });
  servers.mfa = await lab.startServer({ proto: 'udp', extra: scriptAuth(mfa) });
  servers.crv1 = await lab.startServer({ proto: 'udp', extra: scriptAuth(crv1) });
  baselineRoutes = await lab.clientRoutes();

  const files: Record<string, string> = {
    cert: profileText(servers.cert, `<cert>\n${lab.pki.clientEc.cert}</cert>\n<key>\n${lab.pki.clientEc.key}</key>`),
    password: profileText(servers.password, 'auth-user-pass'),
    mfa: profileText(servers.mfa, 'auth-user-pass\nstatic-challenge "Enter your one-time code" 1'),
    crv1: profileText(servers.crv1, 'auth-user-pass\nauth-retry interact'),
  };
  for (const [name, text] of Object.entries(files)) {
    const file = join(home, `${name}.ovpn`);
    writeFileSync(file, text);
    const r = await cli(['import', file, '--name', name]);
    if (r.code !== 0) throw new Error(`import ${name} failed: ${r.stderr}`);
  }
}, 180_000);

stopLeftoverConnects(running);

afterAll(async () => {
  // Keep the logs for the secret scan, then clean up.
  if (home) {
    for (const dir of [join(home, '.local', 'state', 'causeway', 'logs')]) {
      if (existsSync(dir)) {
        for (const f of readdirSync(dir)) copyFileSync(join(dir, f), join(results, `log-${f}`));
      }
    }
    rmSync(home, { recursive: true, force: true });
  }
  await lab?.close();
  await keyring?.stop();
}, 60_000);

describe('causeway connect', () => {
  it('connects a certificate profile, pings through the tunnel, shows status, and disconnects restoring routes', async () => {
    const c = connect('cert');
    const connected = await c.waitForPhase('connected');
    expect(connected.text).toMatch(/^connected to 10\.99\.0\.1/);
    expect(c.phases().slice(0, 2)).toEqual(['resolving', 'connecting']);
    const banner = await c.waitFor((e) => e.event === 'banner');
    expect(banner.text).toBe('Welcome to the lab');
    const pushed = (await c.waitFor((e) => e.event === 'pushed')).settings as { ipv4: { address: string }; routes: string[] };
    expect(pushed.ipv4.address).toMatch(new RegExp(`^${servers.cert.info.subnetPrefix.replace(/\./g, '\\.')}\\.`));
    expect(pushed.routes).toContain('10.123.0.0/16');
    await lab.ping(servers.cert.info.tunnelAddress);
    const [device] = await lab.clientDevices();
    expect((await lab.clientRoutes()).filter((r) => r.startsWith('10.123.0.0/16 '))).toEqual([expect.stringContaining(`dev ${device}`)]);

    const status = await cli(['status', '--json']);
    const sessions = (JSON.parse(status.stdout) as { sessions: { profileName: string; state: { phase: string } }[] }).sessions;
    expect(sessions).toEqual([expect.objectContaining({ profileName: 'cert', state: expect.objectContaining({ phase: 'connected' }) })]);
    const text = await cli(['status']);
    expect(text.stdout).toMatch(/cert \(cert-[0-9a-f]+, pid \d+\): connected to 10\.99\.0\.1/);

    await disconnectAndCheck(c);
    expect(c.phases().slice(-2)).toEqual(['disconnecting', 'idle']);
    const logs = await cli(['logs', 'cert']);
    expect(logs.stdout).toMatch(/state connected/);
  });

  it('connects a password profile, the password answered at the prompt', async () => {
    const c = connect('password');
    const prompt = await c.waitFor((e) => e.event === 'prompt');
    expect(prompt).toMatchObject({ kind: 'credentials', askPassword: true, challenge: null, canRemember: true });
    c.answer(lab.credentials.username);
    c.answer(lab.credentials.password);
    c.answer('n'); // do not remember
    await c.waitForPhase('connected');
    await lab.ping(servers.password.info.tunnelAddress);
    await disconnectAndCheck(c);
  });

  it('connects with the username and password piped before the prompt and stdin closed: "remember?" takes its default', async () => {
    const c = connect('password');
    c.answer(lab.credentials.username);
    c.answer(lab.credentials.password);
    c.endInput();
    await c.waitForPhase('connected');
    await lab.ping(servers.password.info.tunnelAddress);
    await disconnectAndCheck(c);
  });

  it('imports and connects a profile that pins a self-signed server by peer-fingerprint (no CA); a revoked server is refused', async () => {
    const selfSigned = await lab.startServer({ proto: 'udp', serverCert: 'self-signed' });
    const revoked = await lab.startServer({ proto: 'udp', serverCert: 'revoked' });
    try {
      const client = `<cert>\n${lab.pki.clientEc.cert}</cert>\n<key>\n${lab.pki.clientEc.key}</key>`;
      const pinned = ['client', 'dev tun', 'proto udp', `remote ${selfSigned.info.address} ${selfSigned.info.port}`, 'connect-retry 1 5', client,
        `<peer-fingerprint>\n${lab.pki.selfSignedServer.sha256}\n</peer-fingerprint>`, ''].join('\n');
      writeFileSync(join(home, 'pinned.ovpn'), pinned);
      const imported = await cli(['import', join(home, 'pinned.ovpn'), '--name', 'pinned']);
      expect(imported.code).toBe(0);
      const c = connect('pinned');
      await c.waitForPhase('connected');
      await lab.ping(selfSigned.info.tunnelAddress);
      await disconnectAndCheck(c);

      writeFileSync(join(home, 'revoked.ovpn'), profileText(revoked, `${client}\n<crl-verify>\n${lab.pki.crl}</crl-verify>`));
      expect((await cli(['import', join(home, 'revoked.ovpn'), '--name', 'revoked'])).code).toBe(0);
      const r = connect('revoked');
      const failed = await r.waitForPhase('failed', 30_000);
      expect(failed).toMatchObject({ state: { reason: 'server-certificate-rejected' } });
      expect(JSON.stringify(failed)).toMatch(/revoked/);
      expect(await r.exited).toBe(4);
    } finally {
      await selfSigned.stop();
      await revoked.stop();
    }
  });

  it('fails a wrong password as bad credentials in under five seconds, without retrying', async () => {
    // The profile's log keeps the earlier tests' connects: count this connect's attempts only.
    const attempts = async () => (await cli(['logs', 'password'])).stdout.match(/connecting \(attempt \d+\)/g)?.length ?? 0;
    const before = await attempts();
    const c = connect('password');
    await c.waitFor((e) => e.event === 'prompt');
    const t0 = Date.now();
    c.answer(lab.credentials.username);
    c.answer('not-the-password');
    c.answer('n');
    const failed = await c.waitForPhase('failed', 10_000);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(failed.state).toMatchObject({ reason: 'bad-credentials' });
    expect(failed.text).toMatch(/rejected your credentials/);
    expect(await c.exited).toBe(3);
    expect(c.events.filter((e) => e.event === 'prompt')).toHaveLength(1);
    expect((await attempts()) - before).toBe(1);
    expect(await lab.clientDevices()).toEqual([]);
  });

  it('connects a static-challenge profile: password plus one-time code', async () => {
    const c = connect('mfa');
    const prompt = await c.waitFor((e) => e.event === 'prompt');
    expect(prompt).toMatchObject({ kind: 'credentials', challenge: { text: 'Enter your one-time code', echo: true } });
    c.answer(lab.credentials.username);
    c.answer(lab.credentials.password);
    c.answer(OTP);
    c.answer('n');
    await c.waitForPhase('connected');
    await lab.ping(servers.mfa.info.tunnelAddress);
    await disconnectAndCheck(c);
  });

  it('connects a CRV1 dynamic-challenge profile', async () => {
    const c = connect('crv1');
    await c.waitFor((e) => e.event === 'prompt' && e.kind === 'credentials');
    c.answer(lab.credentials.username);
    c.answer(lab.credentials.password);
    c.answer('n');
    const challenge = await c.waitFor((e) => e.event === 'prompt' && e.kind === 'challenge');
    expect(challenge).toMatchObject({ text: 'Enter the PIN we sent you' });
    c.answer(PIN);
    await c.waitForPhase('connected');
    await lab.ping(servers.crv1.info.tunnelAddress);
    await disconnectAndCheck(c);
  });

  it('connects a profile exported without its client certificate once a PKCS#12 is imported and attached', async () => {
    const p12 = join(home, 'client.p12');
    await run('openssl', ['pkcs12', '-export', '-in', lab.pki.clientRsa.certPath, '-inkey', lab.pki.clientRsa.keyPath, '-out', p12, '-passout', `pass:${P12_PASSWORD}`]);
    const file = join(home, 'nocert.ovpn');
    writeFileSync(file, profileText(servers.cert, ''));
    expect((await cli(['import', file, '--name', 'nocert'])).code).toBe(0);
    const imported = await cli(['cert', 'import', p12, '--attach', 'nocert', '--json'], `${P12_PASSWORD}\n`);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ ok: true, certificate: { subject: 'CN=client-rsa', keyType: 'RSA 2048', status: 'valid' }, warnings: [] });
    const c = connect('nocert');
    await c.waitForPhase('connected');
    await lab.ping(servers.cert.info.tunnelAddress);
    await disconnectAndCheck(c);
  });

  it('imports a profile whose key is passphrase-protected, the passphrase answered on stdin, and connects with it', async () => {
    const locked = join(home, 'locked-client.key');
    await run('openssl', ['pkcs8', '-topk8', '-in', lab.pki.clientRsa.keyPath, '-out', locked, '-passout', `pass:${KEY_PASSPHRASE}`]);
    const file = join(home, 'locked.ovpn');
    writeFileSync(file, profileText(servers.cert, `<cert>\n${lab.pki.clientRsa.cert}</cert>\n<key>\n${readFileSync(locked, 'utf8')}</key>`));
    const imported = await cli(['import', file, '--name', 'locked', '--json'], `${KEY_PASSPHRASE}\n`);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout.split('\n')[0]!)).toEqual({ event: 'prompt', kind: 'passphrase', purpose: 'private-key', retry: false, file: 'locked.ovpn' });
    const c = connect('locked');
    await c.waitForPhase('connected');
    await lab.ping(servers.cert.info.tunnelAddress);
    await disconnectAndCheck(c);
  });

  it('runs two profiles at once in two connect processes, and disconnect --all ends both', async () => {
    const a = connect('cert');
    await a.waitForPhase('connected');
    const b = connect('mfa');
    await b.waitFor((e) => e.event === 'prompt');
    for (const line of [lab.credentials.username, lab.credentials.password, OTP, 'n']) b.answer(line);
    await b.waitForPhase('connected');
    // The second helper must not have touched the first one's tunnel.
    expect(a.phases().at(-1)).toBe('connected');
    expect(await lab.clientDevices()).toHaveLength(2);
    await lab.ping(servers.cert.info.tunnelAddress);
    await lab.ping(servers.mfa.info.tunnelAddress);
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as { sessions: { profileName: string; pid: number }[] };
    expect(status.sessions.map((s) => s.profileName).sort()).toEqual(['cert', 'mfa']);
    expect(new Set(status.sessions.map((s) => s.pid)).size).toBe(2);
    const r = await cli(['disconnect', '--all']);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['cert: disconnected', 'mfa: disconnected']);
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    expect(await lab.clientDevices()).toEqual([]);
    expect(await lab.clientRoutes()).toEqual(baselineRoutes);
  });

  it('announces a server session time limit, and reconnects by itself when it is reached', async () => {
    const limited = await lab.startServer({ proto: 'udp', push: ['session-timeout 6'] });
    const file = join(home, 'limited.ovpn');
    writeFileSync(file, profileText(limited, `<cert>\n${lab.pki.clientEc.cert}</cert>\n<key>\n${lab.pki.clientEc.key}</key>`));
    expect((await cli(['import', file, '--name', 'limited'])).code).toBe(0);
    const c = connect('limited');
    await c.waitForPhase('connected');
    expect(await c.waitFor((e) => e.event === 'notice' && /will end this session in 6 s/.test(String(e.text)))).toBeTruthy();
    const expired = await c.waitForPhase('failed', 15_000);
    expect(expired.state).toMatchObject({ reason: 'session-expired' });
    await c.waitFor((e) => e.event === 'notice' && /time limit was reached/.test(String(e.text)));
    // A certificate profile needs no prompt, so the session comes back without the user.
    await c.waitForPhase('connected', 20_000, c.events.indexOf(expired));
    await lab.ping(limited.info.tunnelAddress);
    await disconnectAndCheck(c);
    await limited.stop();
  });

  it('shows reconnecting while the server restarts, then connected again without asking', async () => {
    const c = connect('password');
    await c.waitFor((e) => e.event === 'prompt');
    for (const line of [lab.credentials.username, lab.credentials.password, 'n']) c.answer(line);
    const first = await c.waitForPhase('connected');
    await servers.password.restart();
    const mark = c.events.indexOf(first) + 1;
    await c.waitForPhase('reconnecting', 30_000, mark);
    await c.waitForPhase('connected', 60_000, mark);
    expect(c.events.filter((e) => e.event === 'prompt')).toHaveLength(1); // the password was not asked again
    await lab.ping(servers.password.info.tunnelAddress);
    await disconnectAndCheck(c);
  });

  it('recovers from SIGKILL of the helper: the next helper leaves no stale device or route', async () => {
    const c = connect('cert');
    await c.waitForPhase('connected');
    const [device] = await lab.clientDevices();
    const helperPid = (await run('ps', ['-o', 'pid=', '--ppid', String(c.pid)])).stdout.trim();
    expect(helperPid).toMatch(/^\d+$/);
    const mark = c.events.length;
    await run('kill', ['-KILL', helperPid]);
    const failed = await c.waitForPhase('failed', 10_000, mark);
    expect(failed.state).toMatchObject({ reason: 'helper-unavailable' });
    // A certificate session needs no prompt, so a new helper brings it back.
    await c.waitForPhase('connected', 30_000, mark);
    const devices = await lab.clientDevices();
    expect(devices).toHaveLength(1);
    const tunnelRoutes = (await lab.clientRoutes()).filter((r) => r.startsWith('10.123.0.0/16 '));
    expect(tunnelRoutes).toEqual([expect.stringContaining(`dev ${devices[0]}`)]);
    expect(device).toBeDefined();
    await lab.ping(servers.cert.info.tunnelAddress);
    await disconnectAndCheck(c);
  });
});

// Older servers: stock openvpn offering only CBC data ciphers (no AEAD), reached with 2.4-style
// profiles (`cipher`, `auth`, `data-ciphers-fallback`); a Blowfish profile is refused at import.
describe('causeway connect to servers that only offer CBC', () => {
  const TRANSFER = 2 * 1024 * 1024;
  let cbc256: LabServer;
  let cbc128: LabServer;

  async function importProfile(name: string, server: LabServer, lines: string): Promise<void> {
    writeFileSync(join(home, `${name}.ovpn`), profileText(server, `<cert>\n${lab.pki.clientEc.cert}</cert>\n<key>\n${lab.pki.clientEc.key}</key>\n${lines}`));
    const r = await cli(['import', join(home, `${name}.ovpn`), '--name', name]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }

  /** Connects, pings and moves TRANSFER bytes each way (SHA-256 checked); returns the logs. */
  async function carriesTraffic(name: string, server: LabServer): Promise<string> {
    const c = connect(name);
    await c.waitForPhase('connected', 30_000);
    await lab.ping(server.info.tunnelAddress);
    const r = await lab.transfer(server.info.tunnelAddress, TRANSFER);
    expect(r).toMatchObject({ ok: true, upDigestOk: true, downDigestOk: true, up: TRANSFER, down: TRANSFER });
    appendFileSync(join(results, 'cbc-transfer.log'), `${name}: ${TRANSFER} bytes each way in ${r.ms} ms\n`);
    await disconnectAndCheck(c);
    return (await cli(['logs', name])).stdout;
  }

  /** The stock server's own account of the data channel it set up. */
  /**
   * The data cipher the server pushed (its PUSH_REPLY is logged before any data flows; its own
   * "Data Channel: cipher …" line may come only after a short session has already ended). The
   * digest needs no log: the server's HMAC (its `auth`) checks every packet of the transfer, and
   * a profile with another digest carries nothing (the test below).
   */
  function serverPushedCipher(server: LabServer): string | undefined {
    return /PUSH_REPLY,[^']*\bcipher ([A-Z0-9-]+)/.exec(server.process.log)?.[1];
  }

  beforeAll(async () => {
    cbc256 = await lab.startServer({ proto: 'udp', dataCiphers: ['AES-256-CBC'], extra: ['auth SHA256'] });
    cbc128 = await lab.startServer({ proto: 'tcp', dataCiphers: ['AES-128-CBC'], extra: ['auth SHA512'] });
  }, 60_000);

  it('connects a 2.4-style profile (cipher AES-256-CBC, auth SHA256) to a server with data-ciphers AES-256-CBC, and carries ping and a transfer', async () => {
    await importProfile('cbc-256', cbc256, 'cipher AES-256-CBC\nauth SHA256');
    const shown = await cli(['show', 'cbc-256']);
    expect(shown.stdout).toMatch(/ciphers AES-256-GCM, AES-128-GCM, CHACHA20-POLY1305, AES-256-CBC/);
    const logs = await carriesTraffic('cbc-256', cbc256);
    expect(logs).toMatch(/data channel AES-256-CBC via/);
    expect(serverPushedCipher(cbc256)).toBe('AES-256-CBC');
  });

  it('connects over TCP with data-ciphers AES-128-CBC, data-ciphers-fallback and auth SHA512', async () => {
    await importProfile('cbc-128', cbc128, 'data-ciphers AES-128-CBC\ndata-ciphers-fallback AES-128-CBC\nauth SHA512');
    const shown = await cli(['show', 'cbc-128']);
    expect(shown.stdout).toMatch(/ciphers AES-128-CBC; fallback AES-128-CBC/);
    const logs = await carriesTraffic('cbc-128', cbc128);
    expect(logs).toMatch(/data channel AES-128-CBC via/);
    expect(serverPushedCipher(cbc128)).toBe('AES-128-CBC');
  });

  it('renegotiates CBC keys every 4 s under load without losing a transfer or reconnecting', async () => {
    const server = await lab.startServer({ proto: 'udp', dataCiphers: ['AES-256-CBC'], renegSec: 4 });
    try {
      await importProfile('cbc-reneg', server, 'cipher AES-256-CBC');
      const c = connect('cbc-reneg');
      await c.waitForPhase('connected', 30_000);
      const handshakesBefore = serverHandshakes(server);
      const until = Date.now() + 10_000;
      while (Date.now() < until) {
        const r = await lab.transfer(server.info.tunnelAddress, 4 * 1024 * 1024);
        expect(r).toMatchObject({ ok: true, upDigestOk: true, downDigestOk: true });
      }
      expect(serverHandshakes(server) - handshakesBefore).toBeGreaterThanOrEqual(2);
      expect(c.phases()).not.toContain('reconnecting');
      expect(serverPushedCipher(server)).toBe('AES-256-CBC');
      await disconnectAndCheck(c);
    } finally {
      await server.stop();
    }
  });

  it('a profile whose HMAC digest differs from the server\'s does not carry traffic', async () => {
    // The same server with auth SHA256 on its side: our SHA1 HMAC never verifies there.
    await importProfile('cbc-wrong-auth', cbc256, 'cipher AES-256-CBC\nauth SHA1\nping 1\nping-restart 4');
    const c = connect('cbc-wrong-auth');
    // The control channel and the push do not use the data HMAC: the session comes up.
    await c.waitForPhase('connected', 30_000);
    await expect(lab.ping(cbc256.info.tunnelAddress, 2)).rejects.toThrow();
  });

  it('refuses to import a BF-CBC profile, naming SWEET32 and what to ask for', async () => {
    writeFileSync(join(home, 'blowfish.ovpn'), profileText(cbc256, 'cipher BF-CBC'));
    const r = await cli(['import', join(home, 'blowfish.ovpn'), '--name', 'blowfish']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cipher: BF-CBC is a 64-bit block cipher open to the SWEET32 attack/);
    expect(r.stderr).toMatch(/AES-256-GCM/);
    expect((await cli(['show', 'blowfish'])).code).not.toBe(0);
  });
});

// Proxies: squid and dante in the server namespace (10.99.0.3), the VPN server reachable from the
// client namespace only through them (nft drops the direct path, which is shown to fail first).
describe('causeway connect through a proxy', () => {
  const proxyUser = { username: 'proxyuser', password: randomBytes(9).toString('base64url') };
  const wrongPassword = randomBytes(9).toString('base64url');
  let server: LabServer;
  let udpServer: LabServer;

  /** Whether a plain TCP connection from the client namespace reaches host:port within 3 s. */
  async function tcpReaches(host: string, port: number): Promise<boolean> {
    const probe = `const s=require('net').connect(${port},'${host}');s.on('connect',()=>process.exit(0));s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),3000)`;
    const r = await lab.inClient(process.execPath, ['-e', probe], { check: false });
    return r.code === 0;
  }

  async function importProxied(name: string, proxyLines: string, files: Record<string, string> = {}, to: LabServer = server): Promise<void> {
    for (const [f, text] of Object.entries(files)) writeFileSync(join(home, f), text, { mode: 0o600 });
    const text = profileText(to, `<cert>\n${lab.pki.clientEc.cert}</cert>\n<key>\n${lab.pki.clientEc.key}</key>\n${proxyLines}`);
    writeFileSync(join(home, `${name}.ovpn`), text);
    const r = await cli(['import', join(home, `${name}.ovpn`), '--name', name]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }

  async function connectsAndPings(name: string, to: LabServer = server): Promise<void> {
    const c = connect(name);
    await c.waitForPhase('connected', 30_000);
    await lab.ping(to.info.tunnelAddress);
    await disconnectAndCheck(c);
  }

  /** Connects a profile the proxy refuses: the session fails at once as bad proxy credentials. */
  async function failsWithBadProxyCredentials(name: string, proxyName: RegExp): Promise<void> {
    const c = connect(name);
    const failed = await c.waitForPhase('failed', 30_000);
    expect(failed.state).toMatchObject({ reason: 'bad-proxy-credentials' });
    expect(String((failed.state as { detail: string }).detail)).toMatch(proxyName);
    expect(await c.exited).toBe(3);
    expect(c.phases()).not.toContain('connected');
    expect(c.phases()).not.toContain('reconnecting');
    const logs = (await cli(['logs', name])).stdout;
    expect(logs + JSON.stringify(c.events)).not.toContain(wrongPassword);
  }

  /** Datagrams counted by the client namespace's no-direct-path table, per direction rule. */
  async function directDrops(): Promise<number> {
    const r = await lab.inClient('nft', ['-j', 'list', 'table', 'inet', 'cw_proxy_test']);
    const rules = (JSON.parse(r.stdout) as { nftables: { rule?: { expr: { counter?: { packets: number } }[] } }[] }).nftables;
    return rules.flatMap((x) => x.rule?.expr ?? []).reduce((n, e) => n + (e.counter?.packets ?? 0), 0);
  }

  beforeAll(async () => {
    recordSecret(proxyUser.password, wrongPassword);
    [server, udpServer] = await Promise.all([lab.startServer({ proto: 'tcp' }), lab.startServer({ proto: 'udp' })]);
    await Promise.all([lab.startHttpProxy(3128), lab.startHttpProxy(3129, proxyUser), lab.startSocksProxy(1080), lab.startSocksProxy(1081, proxyUser)]);
    expect(await tcpReaches(server.info.address, server.info.port)).toBe(true);
    const rules = join(lab.dir, 'no-direct-path.nft');
    writeFileSync(rules, `table inet cw_proxy_test {\n  chain out {\n    type filter hook output priority 0;\n    ip daddr ${server.info.address} tcp dport ${server.info.port} counter drop\n    ip daddr ${udpServer.info.address} udp dport ${udpServer.info.port} counter drop\n  }\n}\n`);
    await lab.inClient('nft', ['-f', rules]);
    expect(await tcpReaches(server.info.address, server.info.port)).toBe(false);
    expect(await tcpReaches(lab.netns.serverAddress2, 3128)).toBe(true);
  }, 60_000);

  it('does not connect directly: the server is reachable only through the proxy', async () => {
    // A short hand-window: the engine waits that long for the dropped SYNs to be answered.
    await importProxied('direct', 'hand-window 5');
    const c = connect('direct');
    await c.waitFor((e) => e.event === 'state' && e.phase === 'reconnecting', 30_000);
    expect(c.phases()).not.toContain('connected');
  });

  it('connects through an HTTP proxy without authentication and pings through the tunnel', async () => {
    await importProxied('http-open', `http-proxy ${lab.netns.serverAddress2} 3128\nhttp-proxy-option AGENT causeway-lab`);
    await connectsAndPings('http-open');
  });

  it('connects through an HTTP proxy with Basic authentication from an auth file next to the profile', async () => {
    await importProxied('http-basic', `http-proxy ${lab.netns.serverAddress2} 3129 proxy-auth.txt basic`, {
      'proxy-auth.txt': `${proxyUser.username}\n${proxyUser.password}\n`,
    });
    await connectsAndPings('http-basic');
  });

  it('fails as bad proxy credentials, without retrying, when squid refuses the password', async () => {
    await importProxied('http-wrong', `http-proxy ${lab.netns.serverAddress2} 3129 auto\n<http-proxy-user-pass>\n${proxyUser.username}\n${wrongPassword}\n</http-proxy-user-pass>`);
    const proxy = lab.netns.serverAddress2.replace(/\./g, '\\.');
    await failsWithBadProxyCredentials(
      'http-wrong',
      new RegExp(`through the HTTP proxy ${proxy}:3129: the HTTP proxy answered 407 Proxy Authentication Required: it refused the proxy username or password`),
    );
  });

  it('fails as bad proxy credentials when dante refuses the SOCKS password', async () => {
    await importProxied('socks-wrong', `socks-proxy ${lab.netns.serverAddress2} 1081 socks-wrong.txt`, {
      'socks-wrong.txt': `${proxyUser.username}\n${wrongPassword}\n`,
    });
    const proxy = lab.netns.serverAddress2.replace(/\./g, '\\.');
    await failsWithBadProxyCredentials('socks-wrong', new RegExp(`through the SOCKS proxy ${proxy}:1081: the SOCKS proxy refused the proxy username or password`));
  });

  it('connects through a SOCKS5 proxy without authentication', async () => {
    await importProxied('socks-open', `socks-proxy ${lab.netns.serverAddress2} 1080`);
    await connectsAndPings('socks-open');
  });

  it('connects through a SOCKS5 proxy with username and password', async () => {
    await importProxied('socks-user', `socks-proxy ${lab.netns.serverAddress2} 1081 socks-auth.txt`, {
      'socks-auth.txt': `${proxyUser.username}\n${proxyUser.password}\n`,
    });
    await connectsAndPings('socks-user');
  });

  it('asks for the proxy username and password at connect (http-proxy … stdin), remembers them, and a later connect needs no answer', async () => {
    await importProxied('http-ask', `http-proxy ${lab.netns.serverAddress2} 3129 stdin basic`);
    const c = connect('http-ask');
    const prompt = await c.waitFor((e) => e.event === 'prompt');
    expect(prompt).toMatchObject({ kind: 'proxy-password', proxy: `${lab.netns.serverAddress2}:3129`, username: null, canRemember: true, retryReason: null });
    c.answer(proxyUser.username);
    c.answer(proxyUser.password);
    c.answer('y'); // remember
    await c.waitForPhase('connected', 30_000);
    await lab.ping(server.info.tunnelAddress);
    await disconnectAndCheck(c);
    // Remembered: the next connect asks nothing, with stdin closed at once.
    const again = connect('http-ask');
    again.endInput();
    await again.waitForPhase('connected', 30_000);
    expect(again.events.filter((e) => e.event === 'prompt')).toEqual([]);
    await disconnectAndCheck(again);
  });

  it('fails as bad proxy credentials when the password typed at connect is wrong, and asks again next time', async () => {
    await importProxied('socks-ask', `socks-proxy ${lab.netns.serverAddress2} 1081 stdin`);
    const c = connect('socks-ask');
    await c.waitFor((e) => e.event === 'prompt' && e.kind === 'proxy-password');
    c.answer(proxyUser.username);
    c.answer(wrongPassword);
    c.endInput(); // "remember?" takes its default (no)
    const failed = await c.waitForPhase('failed', 30_000);
    expect(failed.state).toMatchObject({ reason: 'bad-proxy-credentials' });
    expect(await c.exited).toBe(3);
    const next = connect('socks-ask');
    await next.waitFor((e) => e.event === 'prompt' && e.kind === 'proxy-password');
    next.answer(proxyUser.username);
    next.answer(proxyUser.password);
    next.answer('n');
    await next.waitForPhase('connected', 30_000);
    await disconnectAndCheck(next);
  });

  it('connects a UDP profile through dante with UDP ASSOCIATE and username/password, and moves data', async () => {
    await importProxied('socks-udp', `socks-proxy ${lab.netns.serverAddress2} 1081 socks-udp.txt`, { 'socks-udp.txt': `${proxyUser.username}\n${proxyUser.password}\n` }, udpServer);
    const dropsBefore = await directDrops();
    const c = connect('socks-udp');
    const connected = await c.waitForPhase('connected', 30_000);
    expect(connected.state).toMatchObject({ remote: { proto: 'udp', port: udpServer.info.port } });
    await lab.ping(udpServer.info.tunnelAddress);
    const bytes = 2 * 1024 * 1024;
    const r = await lab.transfer(udpServer.info.tunnelAddress, bytes, bytes, 60_000);
    expect(r).toMatchObject({ ok: true, upDigestOk: true, downDigestOk: true, up: bytes, down: bytes });
    console.log(`UDP through dante: 2×2 MB in ${r.ms} ms`);
    // Nothing went to the server directly: every datagram went to dante's relay.
    expect(await directDrops()).toBe(dropsBefore);
    await disconnectAndCheck(c);
  }, 120_000);
});
