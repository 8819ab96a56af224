// DNS peers for the tests: a tiny authoritative DNS server (dns-server.mjs) run inside a
// network namespace, a per-namespace /etc/resolv.conf, and a real systemd-resolved from
// Debian's package on a private D-Bus system bus (see resolved.ts).
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabProcess, type Lab, type LabServer } from '../lab/index.js';

export { PrivateResolved } from './resolved.js';

/** The name the DNS tests' servers answer, and its address: resolvable only through the tunnel. */
export const PRIVATE_NAME = 'intranet.corp.example';
export const PRIVATE_IP = '10.77.0.7';

/**
 * What a full-tunnel server and a split-DNS server push: as DNS their own tunnel addresses
 * (the lab numbers its servers' subnets from 1, so the first two started are 10.8.1.1 and
 * 10.8.2.1), reachable only through the tunnel.
 */
export const FULL_TUNNEL_PUSH = ['redirect-gateway def1', 'dhcp-option DNS 10.8.1.1', 'dhcp-option DOMAIN corp.example'];
export const SPLIT_DNS_PUSH = ['dhcp-option DNS 10.8.2.1', 'dhcp-option DOMAIN-ROUTE corp.example'];

/** A DNS server on `server`'s tunnel address (so reached only through the tunnel) that knows PRIVATE_NAME. */
export function privateDnsOn(lab: Lab, server: LabServer): Promise<DnsServer> {
  return DnsServer.start(lab.netns.server, server.info.tunnelAddress, { [PRIVATE_NAME]: PRIVATE_IP });
}

export async function stopAll(servers: DnsServer[]): Promise<void> {
  for (const d of servers) await d.stop();
}

/** What the client namespace's resolver (glibc, via getent) makes of `name`; null if nothing. */
export async function resolveInClient(lab: Lab, name: string): Promise<string | null> {
  const r = await lab.inClient('getent', ['ahostsv4', name], { check: false, timeoutMs: 30_000 });
  return r.code === 0 ? (r.stdout.split(/\s+/)[0] ?? null) : null;
}

/** A running dns-server.mjs; `queries()` lists the names it was asked for. */
export class DnsServer {
  private constructor(private readonly proc: LabProcess) {}

  /** Serves `records` (name -> IPv4) on `address`:53 inside network namespace `netns`. */
  static async start(netns: string, address: string, records: Record<string, string>): Promise<DnsServer> {
    const script = join(import.meta.dirname, 'dns-server.mjs');
    const zone = Object.entries(records).map(([name, ip]) => `${name}=${ip}`);
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, script, address, '53', ...zone], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new LabProcess(child, 'dns server');
    await proc.waitForLog(`listening ${address}:53`, 10_000);
    return new DnsServer(proc);
  }

  queries(): string[] {
    return [...this.proc.log.matchAll(/^query (\S+) \d+$/gm)].map((m) => m[1]!);
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}

/**
 * The namespace's own /etc/resolv.conf: `ip netns exec` bind-mounts /etc/netns/<ns>/resolv.conf
 * over /etc/resolv.conf in the private mount namespace of every process it starts (the helper
 * and the resolver checks alike), so the host's file is never touched.
 */
export class NetnsResolvConf {
  readonly path: string;
  private readonly dir: string;

  constructor(netns: string, initial: string) {
    this.dir = join('/etc/netns', netns);
    mkdirSync(this.dir, { recursive: true });
    this.path = join(this.dir, 'resolv.conf');
    writeFileSync(this.path, initial);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
