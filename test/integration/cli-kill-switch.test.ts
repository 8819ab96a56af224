// The kill switch as a user turns it on, reaching the real helper: the bundled CLI
// (bin/causeway.cjs) in the lab's client namespace, the causeway-helper it spawns, a stock
// openvpn server in the server namespace. `causeway connect --kill-switch` and a profile with
// `causeway set … kill-switch on` make the helper put up its nftables table (`causeway_<pid>`,
// whose output chain ends in the kill switch's catch-all reject) while connected; a plain
// connect of the same profile puts up none (it asks for no IPv6 block either). With the LAN
// blocked too, the server's LAN address stops answering pings while the tunnel is up. A
// profile's `redirect-gateway def1 ipv6` carries IPv6 to the lab internet through the tunnel
// (none of it in plaintext on the link), and its `redirect-gateway def1 block-local` blocks the
// LAN although the profile's LAN access is on. Leak probes (leak-probes.ts) show that the kill
// switch covers the very first attempt, before anything is pushed, and the networks a profile
// excludes with `route … net_gateway`. A route the LAN adds inside a full tunnel while connected
// (TunnelVision) is removed from the main table and the CLI prints a notice naming it.
//
// Secrets (the client key, the secret file's passphrase) go to test-results/secrets.txt and every
// output to test-results/cli-kill-switch/, which the secret scan checks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Lab, type LabServer } from '../peers/lab/index.js';
import { recordSecret } from '../peers/sso-common/record-secret.js';
import { runCli, stopCli, stopLeftoverConnects, type CliResult } from '../support/run-cli.js';
import { DnsServer, NetnsResolvConf } from '../peers/dns/index.js';
import { Capture, pingWorks, probe, to } from './leak-probes.js';

const repo = resolve(import.meta.dirname, '..', '..');
const cliPath = join(repo, 'bin', 'causeway.cjs');
const helperPath = join(repo, 'native', 'target', 'release', 'causeway-helper');
const results = join(repo, 'test-results', 'cli-kill-switch');
const PASSPHRASE = randomBytes(12).toString('base64url');
/** The server's name, served by a name server in the lab's "internet" (outside the LAN). */
const SERVER_NAME = 'vpn.lab.test';

let lab: Lab;
let server: LabServer;
let home: string;
let env: NodeJS.ProcessEnv;
let internet: { v4: string; v6: string };

function record(label: string, text: string): void {
  appendFileSync(join(results, 'outputs.log'), `$ ${label}\n${text}\n`);
}

/** Runs the CLI to completion outside the namespace (import, set, show). */
function cli(args: string[]): Promise<CliResult> {
  return runCli(args, { env, log: join(results, 'outputs.log') });
}

/** A running `causeway connect --json-events` in the client namespace, as a user starts it. */
class Connect {
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private out = '';

  constructor(args: string[]) {
    this.child = spawn('ip', ['netns', 'exec', lab.netns.client, process.execPath, cliPath, 'connect', ...args, '--json-events'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => appendFileSync(join(results, 'connect.stderr'), d));
    this.exited = new Promise((r) => this.child.on('close', (code) => r(code)));
  }

  /** What the CLI printed so far (its JSON events, one a line). */
  get printed(): string {
    return this.out;
  }

  async connected(): Promise<void> {
    await expect.poll(() => this.out.includes('"phase":"connected"') || this.out.includes('"phase":"failed"'), { timeout: 30_000 }).toBe(true);
    expect(this.out).not.toContain('"phase":"failed"');
  }

  /** SIGTERM: the clean disconnect of Ctrl-C; SIGKILL only if it hangs. */
  async stop(): Promise<number | null> {
    const code = await stopCli(this.child, this.exited);
    record('causeway connect (events)', this.out);
    return code;
  }
}
const running = new Set<Connect>();
function connect(...args: string[]): Connect {
  const c = new Connect(args);
  running.add(c);
  return c;
}

/** The helper's nftables tables in the client namespace, each with its ruleset. */
async function helperTables(): Promise<string[]> {
  const names = (await lab.inClient('nft', ['list', 'tables'])).stdout
    .split('\n')
    .filter((l) => l.includes('causeway_'))
    .map((l) => l.trim().split(/\s+/).at(-1)!);
  return Promise.all(names.map(async (n) => (await lab.inClient('nft', ['list', 'table', 'inet', n])).stdout));
}

/** The kill switch's catch-all: the last rule of the output chain rejects whatever was not accepted. */
function killSwitchCatchAll(table: string): string | undefined {
  const output = /chain output \{([\s\S]*?)\n\t\}/.exec(table)?.[1] ?? '';
  return output.trim().split('\n').map((l) => l.trim()).at(-1);
}

async function pingsLan(): Promise<boolean> {
  const r = await lab.inClient('ping', ['-c', '2', '-i', '0.2', '-W', '1', lab.netns.serverAddress], { check: false, timeoutMs: 15_000 });
  return r.code === 0;
}

async function show(profile = 'lab'): Promise<{ killSwitch: boolean; allowLan: boolean }> {
  return JSON.parse((await cli(['show', profile, '--json'])).stdout) as { killSwitch: boolean; allowLan: boolean };
}

beforeAll(async () => {
  if (!existsSync(helperPath)) throw new Error(`${helperPath} is missing: run cargo build --release --manifest-path native/Cargo.toml`);
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  lab = await Lab.create();
  recordSecret(PASSPHRASE, lab.pki.clientEc.key);
  await lab.addLanIpv6(); // something for IPv6 to leak over
  internet = await lab.addInternet();
  server = await lab.startServer({ proto: 'udp' });
  home = mkdtempSync(join(tmpdir(), 'cw-cli-ks-'));
  mkdirSync(join(home, 'run'), { mode: 0o700 });
  // No keyring here: the key goes to the encrypted secret file, its passphrase from the environment.
  env = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_RUNTIME_DIR: join(home, 'run'),
    CAUSEWAY_SECRET_STORE: 'file',
    CAUSEWAY_SECRET_PASSPHRASE: PASSPHRASE,
    CAUSEWAY_HELPER: helperPath,
  };
  // The same profile, one that keeps the lab's "internet" outside the tunnel, and one that names its server.
  await importProfile('lab');
  await importProfile('excluded', [`route ${internet.v4} 255.255.255.0 net_gateway`]);
  await importProfile('named', [], server, SERVER_NAME);
}, 180_000);

/** Writes a profile for `to` (reached as `remote`) with `extra` lines and imports it under `name`, as a user would. */
async function importProfile(name: string, extra: string[] = [], to: LabServer = server, remote = to.info.address): Promise<void> {
  const file = join(home, `${name}.ovpn`);
  writeFileSync(
    file,
    [
      'client',
      'dev tun',
      'proto udp',
      `remote ${remote} ${to.info.port}`,
      'remote-cert-tls server',
      'connect-retry 1 5',
      `<ca>\n${lab.pki.ca}</ca>`,
      `<cert>\n${lab.pki.clientEc.cert}</cert>`,
      `<key>\n${lab.pki.clientEc.key}</key>`,
      ...extra,
      '',
    ].join('\n'),
  );
  const imported = await cli(['import', file, '--name', name]);
  if (imported.code !== 0) throw new Error(`import failed: ${imported.stderr}`);
}

stopLeftoverConnects(running);

afterAll(async () => {
  if (home) {
    const logs = join(home, '.local', 'state', 'causeway', 'logs');
    if (existsSync(logs)) for (const f of readdirSync(logs)) copyFileSync(join(logs, f), join(results, `log-${f}`));
    rmSync(home, { recursive: true, force: true });
  }
  await lab?.close();
}, 60_000);

describe('the kill switch from the CLI to the helper', () => {
  it('puts up no firewall for a profile with the kill switch off (the default)', async () => {
    expect(await show()).toMatchObject({ killSwitch: false, allowLan: true });
    const c = connect('lab');
    await c.connected();
    expect(await helperTables()).toEqual([]);
    expect(await pingsLan()).toBe(true);
    expect(await c.stop()).toBe(0);
  });

  it('connect --kill-switch turns it on for that connection only', async () => {
    const c = connect('lab', '--kill-switch');
    await c.connected();
    const tables = await helperTables();
    expect(tables).toHaveLength(1);
    expect(killSwitchCatchAll(tables[0]!)).toBe('reject with icmpx admin-prohibited');
    expect(await c.stop()).toBe(0);
    expect(await helperTables()).toEqual([]);
    expect(await show()).toMatchObject({ killSwitch: false });
  });

  it('covers the very first attempt: before anything is pushed only the engine\'s own packets leave', async () => {
    // Negative control: the probes leave in plaintext with no session.
    const plain = await Capture.start(lab, server);
    expect(await probe(lab, internet.v4)).toBe(true);
    expect(await probe(lab, internet.v6)).toBe(true);
    const seen = await plain.stop();
    expect(to(seen, internet.v4).length).toBeGreaterThan(0);
    expect(to(seen, internet.v6).length).toBeGreaterThan(0);

    // The server is away: the session stays in its first attempt, with nothing pushed.
    await server.stop();
    try {
      const c = connect('lab', '--kill-switch');
      await expect.poll(async () => (await helperTables()).length, { timeout: 15_000 }).toBe(1);
      expect(killSwitchCatchAll((await helperTables())[0]!)).toBe('reject with icmpx admin-prohibited');
      const capture = await Capture.start(lab, server);
      expect(await probe(lab, internet.v4)).toBe(false);
      expect(await probe(lab, internet.v6)).toBe(false);
      expect(await pingsLan()).toBe(false);
      expect(await capture.stop()).toEqual([]);
      expect(await c.stop()).toBe(0);
    } finally {
      await server.restart();
    }
    expect(await helperTables()).toEqual([]);
  });

  it('covers net_gateway exclusions: an excluded network is reachable outside the tunnel only without the kill switch', async () => {
    const reachesExcluded = async (): Promise<string[]> => {
      const capture = await Capture.start(lab, server);
      await probe(lab, internet.v4);
      return to(await capture.stop(), internet.v4);
    };
    // Negative control: with the kill switch off the exclusion sends it out in plaintext.
    const open = connect('excluded');
    await open.connected();
    expect(await lab.inClient('ip', ['route', 'get', internet.v4]).then((r) => r.stdout)).toContain(`via ${lab.netns.serverAddress}`);
    expect((await reachesExcluded()).length).toBeGreaterThan(0);
    expect(await open.stop()).toBe(0);

    const guarded = connect('excluded', '--kill-switch');
    await guarded.connected();
    expect(await reachesExcluded()).toEqual([]);
    await lab.ping(server.info.tunnelAddress); // the tunnel itself works
    expect(await guarded.stop()).toBe(0);
    expect(await helperTables()).toEqual([]);
  });

  it('looks the server\'s name up through its own marked sockets: a name server beyond the LAN answers the helper, not ordinary programs', async () => {
    const resolvConf = new NetnsResolvConf(lab.netns.client, `nameserver ${internet.v4}\n`);
    const dns = await DnsServer.start(lab.netns.server, internet.v4, { [SERVER_NAME]: server.info.address, 'other.lab.test': server.info.address });
    const lookup = async (name: string): Promise<boolean> =>
      (await lab.inClient('getent', ['ahostsv4', name], { check: false, timeoutMs: 30_000 })).code === 0;
    try {
      // Negative control: with no session an ordinary program's lookup reaches the name server.
      expect(await lookup('other.lab.test')).toBe(true);
      expect(dns.queries()).toContain('other.lab.test');
      const before = dns.queries().length;

      // The kill switch is up before the first attempt, and the attempt starts with the lookup.
      const c = connect('named', '--kill-switch');
      await c.connected();
      expect(dns.queries().slice(before)).toContain(SERVER_NAME);
      await lab.ping(server.info.tunnelAddress);
      const during = dns.queries().length;
      expect(await lookup('other.lab.test')).toBe(false);
      expect(dns.queries().slice(during)).toEqual([]);
      expect(await c.stop()).toBe(0);
    } finally {
      await dns.stop();
      resolvConf.remove();
    }
  });

  it('a profile set to kill-switch on, LAN blocked, gets the kill switch on every connect, and the LAN stops answering', async () => {
    expect((await cli(['set', 'lab', 'kill-switch', 'on', 'allow-lan', 'off'])).code).toBe(0);
    const c = connect('lab');
    await c.connected();
    const tables = await helperTables();
    expect(tables).toHaveLength(1);
    expect(killSwitchCatchAll(tables[0]!)).toBe('reject with icmpx admin-prohibited');
    await lab.ping(server.info.tunnelAddress); // the tunnel itself works
    expect(await pingsLan()).toBe(false);
    expect(await c.stop()).toBe(0);
    expect(await helperTables()).toEqual([]);
    expect(await pingsLan()).toBe(true);
  });
});

describe("a profile's redirect-gateway flags, imported and connected", () => {
  let v6server: LabServer;
  const lanV6 = 'fd99::1';

  beforeAll(async () => {
    // The LAN's IPv6 and the lab "internet" come from the file's own setup; this server gives
    // tunnels an IPv6 address (server-ipv6) and pushes no routing: the profiles ask for it.
    v6server = await lab.startServer({ proto: 'udp', ipv6: true });
    await importProfile('lab-v6', ['redirect-gateway def1 ipv6'], v6server);
    await importProfile('lab-block-local', ['redirect-gateway def1 block-local'], v6server);
    await importProfile('lab-full', ['redirect-gateway def1'], v6server);
  }, 60_000);

  it('removes a route the LAN adds inside the tunnel while connected (TunnelVision), and says so', async () => {
    const lanRoute = ['192.0.2.0/24', 'via', lab.netns.serverAddress];
    const mainTableRoute = async (): Promise<string> => (await lab.inClient('ip', ['route', 'show', 'table', 'main', '192.0.2.0/24'])).stdout.trim();
    const c = connect('lab-full');
    await c.connected();
    try {
      // The attack (CVE-2024-3661): the LAN hands out a route more specific than the tunnel's.
      await lab.inClient('ip', ['route', 'add', ...lanRoute]);
      const capture = await Capture.start(lab, v6server);
      await expect.poll(mainTableRoute, { timeout: 5_000 }).toBe('');
      await expect
        .poll(() => c.printed, { timeout: 5_000 })
        .toMatch(/"event":"notice"[^\n]*Removed a route the local network added that would take tunnel traffic outside the tunnel: 192\.0\.2\.0\/24 via [0-9.]+ dev \w+"/);
      expect(await probe(lab, internet.v4)).toBe(true); // answered, through the tunnel
      expect(to(await capture.stop(), internet.v4)).toEqual([]);
    } finally {
      await lab.inClient('ip', ['route', 'del', ...lanRoute], { check: false });
    }
    expect(await c.stop()).toBe(0);
    // Negative control: without a session the same route stays.
    await lab.inClient('ip', ['route', 'add', ...lanRoute]);
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await mainTableRoute()).toContain(`via ${lab.netns.serverAddress}`);
    } finally {
      await lab.inClient('ip', ['route', 'del', ...lanRoute], { check: false });
    }
  });

  it('redirect-gateway ipv6 carries IPv6 to the internet through the tunnel, none of it on the link; the LAN stays reachable', async () => {
    // Negative control: with no connection the probe leaves on the link in plaintext.
    const before = await Capture.start(lab, v6server);
    expect(await probe(lab, internet.v6)).toBe(true);
    expect(to(await before.stop(), internet.v6).length).toBeGreaterThan(0);

    expect(await show('lab-v6')).toMatchObject({ allowLan: true, killSwitch: false });
    const c = connect('lab-v6');
    await c.connected();
    const capture = await Capture.start(lab, v6server);
    expect(await probe(lab, internet.v6)).toBe(true); // answered, through the tunnel
    expect(await pingsLan()).toBe(true);
    expect(await pingWorks(lab, lanV6)).toBe(true);
    const seen = await capture.stop();
    expect(to(seen, internet.v6)).toEqual([]);
    expect(await c.stop()).toBe(0);
    expect(await helperTables()).toEqual([]);
  });

  it('redirect-gateway block-local blocks the LAN although the profile allows it', async () => {
    expect(await show('lab-block-local')).toMatchObject({ allowLan: true });
    const c = connect('lab-block-local');
    await c.connected();
    await lab.ping(v6server.info.tunnelAddress); // the tunnel itself works
    const capture = await Capture.start(lab, v6server);
    expect(await pingsLan()).toBe(false);
    expect(await pingWorks(lab, lanV6)).toBe(false);
    const seen = await capture.stop();
    expect(to(seen, lab.netns.serverAddress)).toEqual([]);
    expect(to(seen, lanV6)).toEqual([]);
    expect(await c.stop()).toBe(0);
    // Negative control: the same pings answer once the connection is over.
    expect(await pingsLan()).toBe(true);
    expect(await pingWorks(lab, lanV6)).toBe(true);
  });
});
