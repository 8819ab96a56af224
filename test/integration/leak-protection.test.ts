// Leak protection, proved with a packet capture on the client namespace's physical (veth)
// interface: the IPv6 leak block (default route in an IPv4-only tunnel) and the kill switch
// (nothing but the VPN server while the tunnel is down), both gone when the session ends.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, LabProcess, sleep, type HelperClient, type LabServer } from '../peers/lab/index.js';

const CLIENT_V6 = 'fd99::2';
const SERVER_V6 = 'fd99::1';

/**
 * Captures IP/IPv6 packets leaving the client through its veth, except the tunnel's own and
 * IPv6 neighbour discovery: like ARP (which is not IP and not captured either), it only finds
 * the next hop on the link for packets that are allowed, and the kernel refreshes it on its own.
 */
class Capture {
  private constructor(private readonly proc: LabProcess) {}

  static async start(lab: Lab, server: LabServer): Promise<Capture> {
    const tunnel = `udp and host ${lab.netns.serverAddress} and port ${server.info.port}`;
    const neighbourDiscovery = 'icmp6 and (icmp6[icmp6type] == icmp6-neighborsolicit or icmp6[icmp6type] == icmp6-neighboradvert)';
    const filter = `(ip or ip6) and not (${tunnel}) and not (${neighbourDiscovery})`;
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
async function pingWorks(lab: Lab, address: string): Promise<boolean> {
  const v6 = address.includes(':') ? ['-6'] : [];
  const r = await lab.inClient('ping', [...v6, '-c', '2', '-i', '0.2', '-W', '1', address], { check: false, timeoutMs: 15_000 });
  return r.code === 0;
}

/** A TCP connection attempt to the server's veth address (nobody needs to listen). */
async function tcpProbe(lab: Lab, address: string): Promise<void> {
  const script = `const s=require('net').connect({host:${JSON.stringify(address)},port:7,timeout:1500});s.on('error',()=>process.exit(0));s.on('timeout',()=>process.exit(0));s.on('connect',()=>process.exit(0));`;
  await lab.inClient(process.execPath, ['-e', script], { check: false, timeoutMs: 10_000 });
}

async function helperTables(lab: Lab): Promise<string[]> {
  const r = await lab.inClient('nft', ['list', 'tables']);
  return r.stdout.split('\n').filter((l) => l.includes('causeway_'));
}

describe('leak protection in the namespace lab', () => {
  let lab: Lab;
  let server: LabServer;
  let helper: HelperClient;

  beforeAll(async () => {
    lab = await Lab.create();
    // Give the "LAN" IPv6 too, so there is something for IPv6 to leak over.
    expect(await lab.addLanIpv6()).toEqual({ server: SERVER_V6, client: CLIENT_V6 });
    server = await lab.startServer({ proto: 'udp', push: ['redirect-gateway def1'], keepalive: { interval: 1, timeout: 4 } });
    helper = await lab.startHelper();
  });

  afterAll(async () => {
    await lab?.close();
  });

  it('reaches the LAN over IPv4 and IPv6 before any session (the probes work)', async () => {
    expect(await pingWorks(lab, lab.netns.serverAddress)).toBe(true);
    expect(await pingWorks(lab, SERVER_V6)).toBe(true);
  });

  it('adds no firewall rules to a session that asks for neither protection', async () => {
    const session = 'plain';
    helper.connect(session, lab.engineConfig(server, {}, { blockIpv6: false, killSwitch: false }));
    await helper.waitForPhase(session, 'connected', 20_000);
    expect(await helperTables(lab)).toEqual([]);
    expect(await pingWorks(lab, SERVER_V6)).toBe(true); // IPv6 still goes around the tunnel
    helper.disconnect(session);
    await helper.waitForPhase(session, 'disconnected', 10_000);
  });

  it('blocks IPv6 outside an IPv4-only default-route tunnel, and restores it afterwards', async () => {
    const session = 'v6block';
    helper.connect(session, lab.engineConfig(server, {}, { blockIpv6: true, killSwitch: false }));
    await helper.waitForPhase(session, 'connected', 20_000);
    expect(helper.pushed(session)?.ipv6).toBeNull();

    const capture = await Capture.start(lab, server);
    expect(await pingWorks(lab, server.info.tunnelAddress)).toBe(true); // IPv4 goes through the tunnel
    expect(await pingWorks(lab, SERVER_V6)).toBe(false);
    await tcpProbe(lab, SERVER_V6);
    const seen = await capture.stop();
    expect(seen.filter((l) => / IP6 /.test(l))).toEqual([]);

    helper.disconnect(session);
    await helper.waitForPhase(session, 'disconnected', 10_000);
    expect(await helperTables(lab)).toEqual([]);
    expect(await pingWorks(lab, SERVER_V6)).toBe(true);
  });

  it('lets nothing but the VPN server through while the tunnel is down with the kill switch on', async () => {
    const session = 'killswitch';
    helper.connect(session, lab.engineConfig(server, {}, { killSwitch: true, blockIpv6: true, connectRetryMax: null }));
    await helper.waitForPhase(session, 'connected', 20_000);
    expect(await pingWorks(lab, server.info.tunnelAddress)).toBe(true);

    // Take the server away: the session notices (keepalive) and keeps trying to reconnect.
    const since = helper.messages.length;
    await server.stop();
    await helper.waitFor((m) => m.type === 'state' && m.session === session && m.phase === 'reconnecting', 20_000, since);

    let leaked: string[];
    try {
      const capture = await Capture.start(lab, server);
      expect(await pingWorks(lab, lab.netns.serverAddress)).toBe(false);
      expect(await pingWorks(lab, SERVER_V6)).toBe(false);
      await tcpProbe(lab, lab.netns.serverAddress);
      await tcpProbe(lab, SERVER_V6);
      await sleep(2000); // reconnect attempts go on meanwhile; they are the only packets allowed
      leaked = await capture.stop();
    } finally {
      await server.restart();
      helper.disconnect(session);
      await helper.waitForPhase(session, 'disconnected', 15_000);
    }
    expect(leaked).toEqual([]);

    // The capture would have seen those probes: after the session ends they go out again.
    expect(await helperTables(lab)).toEqual([]);
    const after = await Capture.start(lab, server);
    expect(await pingWorks(lab, lab.netns.serverAddress)).toBe(true);
    expect(await pingWorks(lab, SERVER_V6)).toBe(true);
    expect((await after.stop()).length).toBeGreaterThan(0);
  });

  it('still reaches a VPN server over IPv6 through the IPv6 block and the kill switch', async () => {
    // The same kind of server, listening on the LAN's IPv6 address.
    const v6server = await lab.startServer({
      proto: 'udp',
      push: ['redirect-gateway def1'],
      extra: ['proto udp6', `local ${SERVER_V6}`],
    });
    const config = lab.engineConfig(v6server, {}, { blockIpv6: true, killSwitch: true });
    config.remotes = [{ host: SERVER_V6, port: v6server.info.port, proto: 'udp', family: 'any' }];
    const session = 'v6-endpoint';
    helper.connect(session, config);
    await helper.waitForPhase(session, 'connected', 20_000);
    expect(await pingWorks(lab, v6server.info.tunnelAddress)).toBe(true);
    expect(await pingWorks(lab, lab.netns.serverAddress)).toBe(false); // everything else stays blocked
    helper.disconnect(session);
    await helper.waitForPhase(session, 'disconnected', 10_000);
    await v6server.stop();
    expect(await helperTables(lab)).toEqual([]);
  });

  it('leaves no firewall table behind a helper that was killed, once a new helper starts', async () => {
    const session = 'crash';
    helper.connect(session, lab.engineConfig(server, {}, { killSwitch: true }));
    await helper.waitForPhase(session, 'connected', 20_000);
    expect(await helperTables(lab)).toHaveLength(1);
    helper.kill('SIGKILL');
    await helper.waitForExit();
    // The dead helper's table still blocks (fail closed) until a helper starts again.
    expect(await pingWorks(lab, lab.netns.serverAddress)).toBe(false);
    helper = await lab.startHelper();
    expect(await helperTables(lab)).toEqual([]);
    expect(await pingWorks(lab, lab.netns.serverAddress)).toBe(true);
  });

  it('spoke the protocol correctly throughout', () => {
    expect(helper.violations).toEqual([]);
  });
});
