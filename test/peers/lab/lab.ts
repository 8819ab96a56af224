// The namespace lab: a server namespace running stock openvpn servers, a client namespace
// running causeway-helper (or a stock openvpn client), a veth link between them, a PKI made
// at test time, and traffic checks through the tunnel. See README.md.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineConfig } from '../../../app/helper-protocol/messages.js';
import { engineConfigFor, type ClientChoices } from './engine-config.js';
import { inNetns, run, type RunOptions, type RunResult } from './exec.js';
import { HelperClient } from './helper-client.js';
import { addPathNamespace, createNetnsPair, deleteNetnsPair, PATH_ADDRESS, type NetnsPair } from './netns.js';
import { stockClientConfig } from './openvpn-client.js';
import {
  describeServer,
  spawnOpenvpn,
  writePasswordScript,
  writeServerConfig,
  type ServerInfo,
  type ServerOptions,
} from './openvpn-server.js';
import { createPki, type Pki } from './pki.js';
import { startDante, startSquid, type ProxyUser, type RunningProxy } from './proxies.js';
import { LabProcess } from './process.js';

export const TRANSFER_PORT = 7300;

/** A lab server: its description plus the running process (restartable). */
export class LabServer {
  constructor(
    readonly info: ServerInfo,
    private readonly configPath: string,
    private readonly netns: string,
    public process: LabProcess,
  ) {}

  async stop(): Promise<void> {
    await this.process.stop();
  }

  /** Stops and starts the same server again (same port, same config). */
  async restart(): Promise<void> {
    await this.process.stop();
    this.process = spawnOpenvpn(this.netns, this.configPath);
    await this.process.waitForLog('Initialization Sequence Completed', 20_000);
  }
}

export interface TransferResult {
  ok: boolean;
  upDigestOk: boolean;
  downDigestOk: boolean;
  up: number;
  down: number;
  ms: number;
}

export class Lab {
  /** Test credentials the password-checking servers accept. Random per lab. */
  readonly credentials = { username: 'alice', password: randomBytes(12).toString('base64url') };
  /** The one-time code the servers expect in a static-challenge answer. */
  readonly otp = String(100_000 + (randomBytes(4).readUInt32BE(0) % 900_000));
  private readonly processes = new Set<{ stop(): Promise<unknown> }>();
  private helpers = new Set<HelperClient>();
  private nextSlot = 0;
  private transferServer: LabProcess | null = null;
  /** The path namespace, made by the first delay relay. */
  private path: Promise<string> | undefined;

  private constructor(
    readonly dir: string,
    readonly netns: NetnsPair,
    readonly pki: Pki,
  ) {}

  /** Creates the namespaces, the PKI and the password script. Always pair with `close()`. */
  static async create(): Promise<Lab> {
    const dir = mkdtempSync(join(tmpdir(), 'causeway-lab-'));
    let netns: NetnsPair | null = null;
    try {
      netns = await createNetnsPair();
      const pki = await createPki(join(dir, 'pki'));
      const lab = new Lab(dir, netns, pki);
      writePasswordScript(dir, lab.credentials.username, lab.credentials.password, lab.otp);
      return lab;
    } catch (e) {
      if (netns) await deleteNetnsPair(netns);
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** Starts a stock openvpn server in the server namespace and waits until it is ready. */
  async startServer(options: ServerOptions): Promise<LabServer> {
    const n = this.nextSlot++;
    const address = options.secondaryAddress ? this.netns.serverAddress2 : this.netns.serverAddress;
    const info = describeServer(address, { name: `server${n}`, port: options.port ?? 1194 + n, subnet: n + 1 }, options);
    const configPath = writeServerConfig(info, this.pki, this.dir);
    const proc = spawnOpenvpn(this.netns.server, configPath);
    const server = new LabServer(info, configPath, this.netns.server, proc);
    this.processes.add(server);
    await proc.waitForLog('Initialization Sequence Completed', 20_000);
    return server;
  }

  /** The EngineConfig for connecting our helper to `server`. */
  engineConfig(server: LabServer, choices: ClientChoices = {}, overrides: Partial<EngineConfig> = {}): EngineConfig {
    return engineConfigFor(server.info, this.pki, this.credentials, choices, overrides);
  }

  /**
   * A userspace UDP relay (`udp-delay-relay.mjs`) that holds each datagram `delayMs` each way
   * before passing it on to `server`: the lab's delay, since this kernel has no netem. It runs
   * in the path namespace, a hop between the client and the server (created on first use);
   * `inPath` runs a command there, e.g. nft rules that drop what crosses the relay; `close()`
   * stops it and deletes the namespace.
   */
  async startDelayRelay(server: LabServer, delayMs: number): Promise<{ host: string; port: number }> {
    this.path ??= addPathNamespace(this.netns);
    const ns = await this.path;
    const port = server.info.port + 1000;
    const script = join(import.meta.dirname, 'udp-delay-relay.mjs');
    const args = [script, PATH_ADDRESS, String(port), server.info.address, String(server.info.port), String(delayMs)];
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = new LabProcess(child, 'udp delay relay');
    this.processes.add(relay);
    await relay.waitForLog(`relaying ${port}`, 10_000);
    return { host: PATH_ADDRESS, port };
  }

  /** Runs a command in the path namespace (see `startDelayRelay`). */
  async inPath(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult> {
    if (!this.path) throw new Error('the lab has no path namespace yet: start a delay relay first');
    return run(...inNetns(await this.path, cmd, args), opts);
  }

  /** Spawns `causeway-helper --stdio` in the client namespace, handshake done. */
  async startHelper(env: NodeJS.ProcessEnv = {}): Promise<HelperClient> {
    const helper = await HelperClient.start({ netns: this.netns.client, env });
    this.helpers.add(helper);
    return helper;
  }

  /** Starts stock openvpn as a client of `server` in the client namespace. */
  async startStockClient(server: LabServer, cipher?: string): Promise<LabProcess> {
    const config = stockClientConfig(server.info, this.pki, this.dir, this.credentials, cipher);
    const proc = spawnOpenvpn(this.netns.client, config);
    this.processes.add(proc);
    await proc.waitForLog('Initialization Sequence Completed', 30_000);
    return proc;
  }

  /** Squid (HTTP CONNECT) on the server namespace's second address; with `user`, Basic auth for that user only. */
  async startHttpProxy(port: number, user: ProxyUser | null = null): Promise<RunningProxy> {
    const proxy = await startSquid(this.netns.server, this.netns.serverAddress2, port, user);
    this.processes.add(proxy);
    return proxy;
  }

  /** Dante (SOCKS5 CONNECT and UDP ASSOCIATE) on the server namespace's second address; with `user`, RFC 1929 username/password. */
  async startSocksProxy(port: number, user: ProxyUser | null = null): Promise<RunningProxy> {
    const proxy = await startDante(this.netns.server, this.dir, this.netns.serverAddress2, port, user);
    this.processes.add(proxy);
    return proxy;
  }

  /** Runs a command in the client namespace. */
  inClient(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult> {
    return run(...inNetns(this.netns.client, cmd, args), opts);
  }

  inServer(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult> {
    return run(...inNetns(this.netns.server, cmd, args), opts);
  }

  /** Pings `address` from the client namespace; throws unless every reply came back. */
  async ping(address: string, count = 3): Promise<void> {
    const v6 = address.includes(':');
    await this.inClient('ping', [...(v6 ? ['-6'] : []), '-c', String(count), '-i', '0.2', '-W', '2', address], { timeoutMs: 20_000 });
  }

  /**
   * Moves `up` bytes client->server and `down` bytes server->client in one TCP connection
   * to the server namespace's transfer peer at `address`, verifying SHA-256 digests both ways.
   */
  async transfer(address: string, up: number, down: number = up, timeoutMs = 120_000): Promise<TransferResult> {
    if (!this.transferServer) {
      const script = join(import.meta.dirname, 'transfer-peer.mjs');
      const child = spawn('ip', ['netns', 'exec', this.netns.server, process.execPath, script, 'serve', String(TRANSFER_PORT)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.transferServer = new LabProcess(child, 'transfer peer');
      this.processes.add(this.transferServer);
      await this.transferServer.waitForLog(`listening ${TRANSFER_PORT}`, 10_000);
    }
    const script = join(import.meta.dirname, 'transfer-peer.mjs');
    const r = await this.inClient(process.execPath, [script, 'fetch', address, String(TRANSFER_PORT), String(up), String(down)], {
      check: false,
      timeoutMs,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as TransferResult;
    } catch {
      throw new Error(`transfer to ${address} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
    }
  }

  /** Device names in the client namespace matching `prefix` (e.g. our cw* TUN devices). */
  async clientDevices(prefix = 'cw'): Promise<string[]> {
    const r = await this.inClient('ip', ['-o', 'link', 'show']);
    return r.stdout
      .split('\n')
      .map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '')
      .filter((name) => name.startsWith(prefix) && name !== this.netns.clientDevice);
  }

  /** The client namespace's routes (IPv4 and IPv6), one per line as `ip route` prints them. */
  async clientRoutes(): Promise<string[]> {
    // Every table but the kernel's local one: the helper's routes live in a table of their own.
    const v4 = await this.inClient('ip', ['-4', 'route', 'show', 'table', 'all']);
    const v6 = await this.inClient('ip', ['-6', 'route', 'show', 'table', 'all']);
    return `${v4.stdout}${v6.stdout}`.split('\n').filter((l) => l && !l.includes(' table local'));
  }

  /**
   * Gives the "LAN" IPv6 as well (server `fd99::1`, client `fd99::2`, the client's IPv6 default
   * route via the server), for remotes reached over IPv6.
   */
  async addLanIpv6(): Promise<{ server: string; client: string }> {
    const lan = { server: 'fd99::1', client: 'fd99::2' };
    await this.claimOnLink(lan.server, lan.client, 64);
    await this.inClient('ip', ['-6', 'route', 'add', 'default', 'via', lan.server]);
    return lan;
  }

  /**
   * The LAN makes `prefix` bits around `server`/`client` its own: each end of the veth gets its
   * address, so the range is directly connected (what TunnelCrack's LocalNet does with a public
   * range). Returns a function that takes it back.
   */
  async claimOnLink(server: string, client: string, prefix: number): Promise<() => Promise<void>> {
    const serverDev = await this.serverDevice();
    const nodad = server.includes(':') ? ['nodad'] : [];
    await this.inServer('ip', ['addr', 'add', `${server}/${prefix}`, 'dev', serverDev, ...nodad]);
    await this.inClient('ip', ['addr', 'add', `${client}/${prefix}`, 'dev', this.netns.clientDevice, ...nodad]);
    return async () => {
      await this.inClient('ip', ['addr', 'del', `${client}/${prefix}`, 'dev', this.netns.clientDevice], { check: false });
      await this.inServer('ip', ['addr', 'del', `${server}/${prefix}`, 'dev', serverDev], { check: false });
    };
  }

  /** The server side's link-local IPv6 address on the veth (the client reaches it as `…%clientDevice`). */
  async serverLinkLocal(): Promise<string> {
    const out = (await this.inServer('ip', ['-6', '-o', 'addr', 'show', 'dev', await this.serverDevice(), 'scope', 'link'])).stdout;
    const address = /inet6 (fe80::[0-9a-f:]+)\//.exec(out)?.[1];
    if (!address) throw new Error(`the server's veth has no link-local address:\n${out}`);
    return address;
  }

  private async serverDevice(): Promise<string> {
    const serverDev = /^\d+: (cwv[^:@]+)/m.exec((await this.inServer('ip', ['-o', 'link', 'show'])).stdout)?.[1];
    if (!serverDev) throw new Error('the server namespace has no veth device');
    return serverDev;
  }

  /**
   * The "internet" behind the client's gateway: the server namespace (the client's default
   * gateway) owns addresses of the public documentation ranges, `192.0.2.1` and `2001:db8::1`,
   * on its loopback, reached from the client over its default routes (call `addLanIpv6` first
   * for the IPv6 one). Leak probes go there.
   */
  async addInternet(): Promise<{ v4: string; v6: string }> {
    const internet = { v4: '192.0.2.1', v6: '2001:db8::1' };
    await this.inServer('ip', ['addr', 'add', `${internet.v4}/24`, 'dev', 'lo']);
    await this.inServer('ip', ['addr', 'add', `${internet.v6}/32`, 'dev', 'lo', 'nodad']);
    return internet;
  }

  /**
   * Host names the client namespace resolves, as `[address, name]` lines of its own hosts file:
   * `ip netns exec` (how the helper is started) mounts `/etc/netns/<namespace>/hosts` over
   * `/etc/hosts`. Removed again by `close()`.
   */
  setClientHosts(entries: [address: string, name: string][]): void {
    const dir = join('/etc/netns', this.netns.client);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hosts'), entries.map(([a, n]) => `${a} ${n}\n`).join(''));
  }

  /** Stops every helper, server and client the lab started, then deletes the namespaces and files. */
  async close(): Promise<void> {
    for (const helper of this.helpers) {
      if (helper.running) await helper.close().catch(() => helper.kill('SIGKILL'));
    }
    for (const p of this.processes) await p.stop().catch(() => undefined);
    await deleteNetnsPair(this.netns);
    rmSync(join('/etc/netns', this.netns.client), { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
