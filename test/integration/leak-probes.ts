// The probes of the leak tests, Mullvad-style: a packet capture on the client namespace's
// physical (veth) interface, and ICMP, TCP and UDP/53 probes from an ordinary process.
import { spawn } from 'node:child_process';
import { Lab, LabProcess, sleep, type LabServer } from '../peers/lab/index.js';

/**
 * Captures IP/IPv6 packets leaving the client through its veth, except the tunnel's own and
 * IPv6 neighbour discovery (neighbour and router solicitations and advertisements, which the
 * leak blocks let through): like ARP (which is not IP and not captured either), it only finds
 * the next hop and the router on the link, and the kernel sends it on its own.
 */
export class Capture {
  private constructor(private readonly proc: LabProcess) {}

  static async start(lab: Lab, server: LabServer): Promise<Capture> {
    const tunnel = `udp and host ${lab.netns.serverAddress} and port ${server.info.port}`;
    const ndTypes = ['icmp6-routersolicit', 'icmp6-neighborsolicit', 'icmp6-neighboradvert'];
    const neighbourDiscovery = `icmp6 and (${ndTypes.map((t) => `icmp6[icmp6type] == ${t}`).join(' or ')})`;
    return Capture.filtered(lab, `(ip or ip6) and not (${tunnel}) and not (${neighbourDiscovery})`);
  }

  /** Captures what `filter` (a tcpdump expression) selects of the packets leaving the client. */
  static async filtered(lab: Lab, filter: string): Promise<Capture> {
    const child = spawn('ip', ['netns', 'exec', lab.netns.client, 'tcpdump', '-i', lab.netns.clientDevice, '-Q', 'out', '-n', '-l', '-U', filter], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new LabProcess(child, 'tcpdump');
    await proc.waitForLog('listening on', 10_000);
    return new Capture(proc);
  }

  /** Packet lines seen so far (tcpdump prints one line per packet, each with a timestamp). */
  packets(): string[] {
    return this.proc.log.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d+ /.test(l));
  }

  async stop(): Promise<string[]> {
    await sleep(300); // let tcpdump print what it has
    await this.proc.stop();
    return this.packets();
  }
}

/** True when every probe packet got a reply (ping exits 0). */
export async function pingWorks(lab: Lab, address: string): Promise<boolean> {
  const v6 = address.includes(':') ? ['-6'] : [];
  const r = await lab.inClient('ping', [...v6, '-c', '2', '-i', '0.2', '-W', '1', address], { check: false, timeoutMs: 15_000 });
  return r.code === 0;
}

/** A TCP connection attempt to the server's veth address (nobody needs to listen). */
export async function tcpProbe(lab: Lab, address: string): Promise<void> {
  const script = `const s=require('net').connect({host:${JSON.stringify(address)},port:7,timeout:1500});s.on('error',()=>process.exit(0));s.on('timeout',()=>process.exit(0));s.on('connect',()=>process.exit(0));`;
  await lab.inClient(process.execPath, ['-e', script], { check: false, timeoutMs: 10_000 });
}

/** A UDP datagram to port 53 (a DNS query's first packet; nobody needs to answer). */
export async function udp53Probe(lab: Lab, address: string): Promise<void> {
  const family = address.includes(':') ? 'udp6' : 'udp4';
  const script = `const s=require('dgram').createSocket(${JSON.stringify(family)});s.on('error',()=>process.exit(0));s.send(Buffer.from('probe'),53,${JSON.stringify(address)},()=>setTimeout(()=>process.exit(0),100));`;
  await lab.inClient(process.execPath, ['-e', script], { check: false, timeoutMs: 10_000 });
}

/** A UDP datagram from an ordinary process's socket bound to `sourcePort`, to `address`:`port`. */
export async function udpProbeFrom(lab: Lab, sourcePort: number, address: string, port: number): Promise<void> {
  const script = `const s=require('dgram').createSocket('udp4');s.on('error',()=>process.exit(0));s.bind(${sourcePort},()=>s.send(Buffer.from('probe'),${port},${JSON.stringify(address)},()=>setTimeout(()=>process.exit(0),100)));`;
  await lab.inClient(process.execPath, ['-e', script], { check: false, timeoutMs: 10_000 });
}

/** ICMP, TCP and UDP/53 to `address` from an ordinary process; true when the ping was answered. */
export async function probe(lab: Lab, address: string): Promise<boolean> {
  const answered = await pingWorks(lab, address);
  await tcpProbe(lab, address);
  await udp53Probe(lab, address);
  return answered;
}

/** The captured packets addressed to `address` (tcpdump prints "> address" or "> address.port"). */
export function to(seen: string[], address: string): string[] {
  return seen.filter((l) => l.includes(`> ${address}:`) || l.includes(`> ${address}.`));
}

