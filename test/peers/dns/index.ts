// DNS peers for the tests: a tiny authoritative DNS server (dns-server.mjs) run inside a
// network namespace, a per-namespace /etc/resolv.conf, and a real systemd-resolved from
// Debian's package on a private D-Bus system bus (see resolved.ts).
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabProcess } from '../lab/index.js';

export { PrivateResolved } from './resolved.js';

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
