// Leak protection, proved with a packet capture on the client namespace's physical (veth)
// interface while probes (ICMP, TCP, UDP to port 53) from an ordinary process go to the lab's
// "internet" (public documentation ranges owned by the client's gateway): the IPv6 leak block
// (by default, in every IPv4-only full tunnel), the IPv4 block of a full tunnel (through a
// more specific LAN route, TunnelVision, and of IPv6 in a tunnel taking its default route; and
// while it reconnects), the kill switch (nothing but the VPN server
// while the tunnel is down), a helper crash (the dead helper's rules stay until a session of
// the next helper takes over), a pre-existing conflicting route its own routing table beats,
// the server's address (only the helper's own marked socket may reach it), and nothing left
// behind after disconnect (no table, route or routing rule). A negative control first shows every probe leaves in
// plaintext with no protection, so a probe with no route out cannot pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConfig } from '../../app/helper-protocol/messages.js';
import { Lab, sleep, type HelperClient, type LabServer } from '../peers/lab/index.js';
import { Capture, pingWorks, probe, tcpProbe, to, udpProbeFrom } from './leak-probes.js';

const CLIENT_V6 = 'fd99::2';
const SERVER_V6 = 'fd99::1';

async function helperTables(lab: Lab): Promise<string[]> {
  const r = await lab.inClient('nft', ['list', 'tables']);
  return r.stdout.split('\n').filter((l) => l.includes('causeway_'));
}

/**
 * Every policy rule and every route of every table, both families, except the kernel's own
 * routes of addresses (a link-local one may appear late; the tunnel devices are checked apart).
 */
async function rulesAndTables(lab: Lab): Promise<string> {
  const out: string[] = [];
  for (const args of [['-4', 'rule'], ['-6', 'rule'], ['-4', 'route', 'show', 'table', 'all'], ['-6', 'route', 'show', 'table', 'all']]) {
    out.push(...(await lab.inClient('ip', args)).stdout.split('\n').filter((l) => !l.includes(' proto kernel ')));
  }
  return out.join('\n');
}

describe('leak protection in the namespace lab', () => {
  let lab: Lab;
  let server: LabServer;
  let helper: HelperClient;
  let internet: { v4: string; v6: string };
  let routesBefore: string[];
  let rulesAndTablesBefore: string;

  beforeAll(async () => {
    lab = await Lab.create();
    // Give the "LAN" IPv6 too, so there is something for IPv6 to leak over.
    expect(await lab.addLanIpv6()).toEqual({ server: SERVER_V6, client: CLIENT_V6 });
    internet = await lab.addInternet();
    routesBefore = await lab.clientRoutes();
    rulesAndTablesBefore = await rulesAndTables(lab);
    server = await lab.startServer({ proto: 'udp', push: ['redirect-gateway def1'], keepalive: { interval: 1, timeout: 4 } });
    helper = await lab.startHelper();
  });

  afterAll(async () => {
    await lab?.close();
  });

  it('negative control: with no session every probe leaves in plaintext', async () => {
    const capture = await Capture.start(lab, server);
    expect(await probe(lab, internet.v4)).toBe(true);
    expect(await probe(lab, internet.v6)).toBe(true);
    const seen = await capture.stop();
    for (const address of [internet.v4, internet.v6]) {
      const packets = to(seen, address);
      expect(packets.some((l) => /ICMP/.test(l))).toBe(true);
      expect(packets.some((l) => /Flags \[S\]/.test(l))).toBe(true);
      expect(packets.some((l) => l.includes(`${address}.53: `))).toBe(true);
    }
  });

  it('blocks IPv6 outside an IPv4-only full tunnel by default, and tunnels IPv4', async () => {
    const session = 'default';
    helper.connect(session, lab.engineConfig(server, {}, { blockIpv6: false, killSwitch: false }));
    await helper.waitForPhase(session, 'connected', 20_000);
    expect(helper.pushed(session)?.ipv6).toBeNull();
    expect(await helperTables(lab)).toHaveLength(1);

    const capture = await Capture.start(lab, server);
    expect(await probe(lab, internet.v4)).toBe(true); // through the tunnel
    expect(await probe(lab, internet.v6)).toBe(false);
    const seen = await capture.stop();
    expect(to(seen, internet.v4)).toEqual([]);
    expect(seen.filter((l) => / IP6 /.test(l))).toEqual([]);

    helper.disconnect(session);
    await helper.waitForPhase(session, 'disconnected', 10_000);
    expect(await helperTables(lab)).toEqual([]);
  });

  it('honours a pushed block-ipv6 in a tunnel that takes the IPv6 default route', async () => {
    const push = ['redirect-gateway def1', 'route-ipv6 2000::/3'];
    for (const pushesBlock of [false, true]) {
      const v6server = await lab.startServer({ proto: 'udp', ipv6: true, push: pushesBlock ? [...push, 'block-ipv6'] : push });
      const session = `pushed-block-${pushesBlock}`;
      helper.connect(session, lab.engineConfig(v6server, {}, { blockIpv6: false, killSwitch: false }));
      await helper.waitForPhase(session, 'connected', 20_000);
      expect(helper.pushed(session)?.ipv6).not.toBeNull();
      expect(helper.pushed(session)?.blockIpv6).toBe(pushesBlock);
      // The LAN's IPv6 is outside the tunnel: reachable unless the server says block-ipv6.
      const capture = await Capture.start(lab, v6server);
      expect(await probe(lab, SERVER_V6)).toBe(!pushesBlock);
      const leaked = to(await capture.stop(), SERVER_V6);
      expect(leaked.length > 0).toBe(!pushesBlock);
      expect(await helperTables(lab)).toHaveLength(1); // a full tunnel's IPv4 block, at least
      helper.disconnect(session);
      await helper.waitForPhase(session, 'disconnected', 10_000);
      await v6server.stop();
    }
    expect(await helperTables(lab)).toEqual([]);
  });

  it('routes IPv6 into the tunnel with a pushed redirect-gateway ipv6: the lab internet over IPv6 through it, none on the link', async () => {
    const v6server = await lab.startServer({ proto: 'udp', ipv6: true, push: ['redirect-gateway def1 ipv6'] });
    try {
      const session = 'pushed-v6-redirect';
      helper.connect(session, lab.engineConfig(v6server, {}, { blockIpv6: false, killSwitch: false, allowLan: true }));
      await helper.waitForPhase(session, 'connected', 20_000);
      const pushed = helper.pushed(session)!;
      expect(pushed.redirectGatewayIpv6).toBe(true);
      expect(pushed.ipv6).not.toBeNull();
      // OpenVPN's four routes, never ::/1 + 8000::/1 (they would swallow link-local and multicast).
      // In the session's own routing table (behind its ip rule), not main.
      const routes = (await lab.inClient('ip', ['-6', 'route', 'show', 'table', 'all', 'dev', pushed.device])).stdout
        .split('\n')
        .filter((l) => l && !l.includes(' proto kernel ') && !l.includes('table local'))
        .map((l) => l.split(' ')[0]);
      expect(routes.sort()).toEqual(['2000::/4', '3000::/4', '::/3', 'fc00::/7']);
      const capture = await Capture.start(lab, v6server);
      expect(await probe(lab, internet.v6)).toBe(true); // answered, through the tunnel
      expect(await probe(lab, internet.v4)).toBe(true);
      const seen = await capture.stop();
      expect(to(seen, internet.v6)).toEqual([]);
      expect(to(seen, internet.v4)).toEqual([]);
      // The IPv6 block stays for the session: IPv6 leaves through the tunnel or not at all.
      expect(await helperTables(lab)).toHaveLength(1);
      helper.disconnect(session);
      await helper.waitForPhase(session, 'disconnected', 10_000);
    } finally {
      await v6server.stop();
    }
    expect(await helperTables(lab)).toEqual([]);
    // Negative control: without the session the same probe leaves on the link in plaintext.
    const after = await Capture.start(lab, server);
    expect(await probe(lab, internet.v6)).toBe(true);
    expect(to(await after.stop(), internet.v6).length).toBeGreaterThan(0);
  });

  it('keeps IPv6 in a tunnel that takes the IPv6 default route when the LAN routes a public range past it (TunnelVision), and removes that route', async () => {
    const v6server = await lab.startServer({ proto: 'udp', ipv6: true, push: ['redirect-gateway def1 ipv6'] });
    const session = 'tunnelvision-v6';
    const lanRoute = ['2001:db8::/32', 'via', SERVER_V6];
    const mainTableRoute = async (): Promise<string> => (await lab.inClient('ip', ['-6', 'route', 'show', 'table', 'main', '2001:db8::/32'])).stdout.trim();
    const since = helper.messages.length;
    let leaked: string[];
    try {
      helper.connect(session, lab.engineConfig(v6server, {}, { blockIpv6: false, killSwitch: false, allowLan: true }));
      await helper.waitForPhase(session, 'connected', 20_000);
      const capture = await Capture.start(lab, v6server);
      // A router advertisement's route information option (RFC 4191) does this on a real LAN.
      await lab.inClient('ip', ['-6', 'route', 'add', ...lanRoute]);
      const removed = await helper.waitFor((m) => m.type === 'routeRemoved' && m.session === session, 5_000, since);
      expect(removed).toMatchObject({ destination: '2001:db8::/32', gateway: SERVER_V6 });
      await expect.poll(mainTableRoute, { timeout: 5_000 }).toBe('');
      expect((await lab.inClient('ip', ['-6', 'route', 'get', internet.v6])).stdout).toMatch(/ dev cw/);
      expect(await probe(lab, internet.v6)).toBe(true); // answered, through the tunnel
      leaked = to(await capture.stop(), internet.v6);
      helper.disconnect(session);
      await helper.waitForPhase(session, 'disconnected', 10_000);
      // Negative control: without the session the same route stays and the probe leaves on the link.
      await lab.inClient('ip', ['-6', 'route', 'add', ...lanRoute]);
      const after = await Capture.start(lab, server);
      expect(await probe(lab, internet.v6)).toBe(true);
      expect(to(await after.stop(), internet.v6).length).toBeGreaterThan(0);
      expect(await mainTableRoute()).toContain(`via ${SERVER_V6}`);
    } finally {
      await lab.inClient('ip', ['-6', 'route', 'del', ...lanRoute], { check: false });
      await v6server.stop();
    }
    expect(leaked).toEqual([]);
  });

  it('keeps only the directly connected private LAN reachable, both families; a pushed block-local takes it away', async () => {
    const linkLocal = await lab.serverLinkLocal();
    const lanAnswers = async () => ({
      v4: await pingWorks(lab, lab.netns.serverAddress),
      ula: await pingWorks(lab, SERVER_V6),
      linkLocal: await pingWorks(lab, `${linkLocal}%${lab.netns.clientDevice}`),
    });
    for (const blockLocal of [false, true]) {
      const push = blockLocal ? 'redirect-gateway def1 ipv6 block-local' : 'redirect-gateway def1 ipv6';
      const v6server = await lab.startServer({ proto: 'udp', ipv6: true, push: [push] });
      try {
        const session = `lan-${blockLocal}`;
        // The profile allows the LAN either way.
        helper.connect(session, lab.engineConfig(v6server, {}, { blockIpv6: false, killSwitch: false, allowLan: true }));
        await helper.waitForPhase(session, 'connected', 20_000);
        expect(helper.pushed(session)?.blockLocal).toBe(blockLocal);
        const capture = await Capture.start(lab, v6server);
        const answers = await lanAnswers();
        const seen = await capture.stop();
        expect(answers).toEqual({ v4: !blockLocal, ula: !blockLocal, linkLocal: !blockLocal });
        for (const address of [lab.netns.serverAddress, SERVER_V6, linkLocal]) {
          expect(to(seen, address).length > 0).toBe(!blockLocal);
        }
        helper.disconnect(session);
        await helper.waitForPhase(session, 'disconnected', 10_000);
      } finally {
        await v6server.stop();
      }
    }
    // And after the session, all of it answers again.
    expect(await lanAnswers()).toEqual({ v4: true, ula: true, linkLocal: true });
  });

  it('never exempts a public range the LAN claims as on-link (TunnelCrack LocalNet), IPv4 and IPv6', async () => {
    const claimed = { v4: '198.51.100.1', v6: '2001:db8:77::1' };
    const unclaim4 = await lab.claimOnLink(claimed.v4, '198.51.100.2', 24);
    const unclaim6 = await lab.claimOnLink(claimed.v6, '2001:db8:77::2', 64);
    const v6server = await lab.startServer({ proto: 'udp', ipv6: true, push: ['redirect-gateway def1 ipv6'] });
    try {
      // Negative control: with no session both "local" ranges are reached in plaintext.
      const before = await Capture.start(lab, v6server);
      expect(await probe(lab, claimed.v4)).toBe(true);
      expect(await probe(lab, claimed.v6)).toBe(true);
      const plain = await before.stop();
      for (const address of [claimed.v4, claimed.v6]) {
        expect(to(plain, address).some((l) => /ICMP/.test(l))).toBe(true);
        expect(to(plain, address).some((l) => /Flags \[S\]/.test(l))).toBe(true);
        expect(to(plain, address).some((l) => l.includes(`${address}.53: `))).toBe(true);
      }

      const session = 'localnet';
      helper.connect(session, lab.engineConfig(v6server, {}, { blockIpv6: false, killSwitch: false, allowLan: true }));
      await helper.waitForPhase(session, 'connected', 20_000);
      const capture = await Capture.start(lab, v6server);
      // Whether they are answered does not matter (through the tunnel the server's namespace,
      // which owns those addresses too, may answer): none of it may be on the link.
      await probe(lab, claimed.v4);
      await probe(lab, claimed.v6);
      // The private LAN, allowed, still answers: the block is not just everything.
      expect(await pingWorks(lab, lab.netns.serverAddress)).toBe(true);
      expect(await pingWorks(lab, SERVER_V6)).toBe(true);
      const seen = await capture.stop();
      expect(to(seen, claimed.v4)).toEqual([]);
      expect(to(seen, claimed.v6)).toEqual([]);
      helper.disconnect(session);
      await helper.waitForPhase(session, 'disconnected', 10_000);
    } finally {
      await v6server.stop();
      await unclaim6();
      await unclaim4();
    }
    expect(await helperTables(lab)).toEqual([]);
  });

  it('takes its traffic from a pre-existing 0.0.0.0/1 outside the tunnel: its own routing table wins, and the foreign route stays', async () => {
    const foreign = ['0.0.0.0/1', 'via', lab.netns.serverAddress];
    await lab.inClient('ip', ['route', 'add', ...foreign]);
    try {
      // Negative control: the foreign route sends the probes out in plaintext.
      const plain = await Capture.start(lab, server);
      expect(await probe(lab, internet.v4)).toBe(true);
      expect(to(await plain.stop(), internet.v4).length).toBeGreaterThan(0);

      const session = 'conflict';
      helper.connect(session, lab.engineConfig(server, {}, { blockIpv6: false, killSwitch: false }));
      await helper.waitForPhase(session, 'connected', 20_000);
      expect((await lab.inClient('ip', ['route', 'get', internet.v4])).stdout).toMatch(/ dev cw/);
      const capture = await Capture.start(lab, server);
      expect(await probe(lab, internet.v4)).toBe(true); // through the tunnel
      expect(to(await capture.stop(), internet.v4)).toEqual([]);
      helper.disconnect(session);
      await helper.waitForPhase(session, 'disconnected', 10_000);
      expect((await lab.inClient('ip', ['route', 'show', '0.0.0.0/1'])).stdout).toContain(`via ${lab.netns.serverAddress}`);
      expect(await lab.clientDevices()).toEqual([]);
      expect(await helperTables(lab)).toEqual([]);
    } finally {
      await lab.inClient('ip', ['route', 'del', ...foreign]);
    }
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

  it('keeps IPv4 in a full tunnel when the LAN routes a public range past it (TunnelVision), and removes that route', async () => {
    const session = 'tunnelvision';
    const lanRoute = ['192.0.2.0/24', 'via', lab.netns.serverAddress];
    const mainTableRoute = async (): Promise<string> => (await lab.inClient('ip', ['route', 'show', 'table', 'main', '192.0.2.0/24'])).stdout.trim();
    const since = helper.messages.length;
    helper.connect(session, lab.engineConfig(server, {}, { killSwitch: false, allowLan: true }));
    await helper.waitForPhase(session, 'connected', 20_000);
    let leaked: string[];
    try {
      const capture = await Capture.start(lab, server);
      // The attack (CVE-2024-3661): the LAN hands out a route more specific than the tunnel's.
      await lab.inClient('ip', ['route', 'add', ...lanRoute]);
      // Client route enforcement: the helper deletes it from the main table and says so.
      const removed = await helper.waitFor((m) => m.type === 'routeRemoved' && m.session === session, 5_000, since);
      expect(removed).toMatchObject({ destination: '192.0.2.0/24', gateway: lab.netns.serverAddress });
      await expect.poll(mainTableRoute, { timeout: 5_000 }).toBe('');
      // The tunnel's own routing table comes before the main one in any case.
      expect((await lab.inClient('ip', ['route', 'get', internet.v4])).stdout).toMatch(/ dev cw/);
      await probe(lab, internet.v4);
      leaked = to(await capture.stop(), internet.v4);
      // The directly connected private LAN stays reachable (allowLan), its route untouched.
      expect(await pingWorks(lab, lab.netns.serverAddress)).toBe(true);
      helper.disconnect(session);
      await helper.waitForPhase(session, 'disconnected', 10_000);
      // Negative control: without the session the same route stays and sends every probe out in plaintext.
      await lab.inClient('ip', ['route', 'add', ...lanRoute]);
      const after = await Capture.start(lab, server);
      expect(await probe(lab, internet.v4)).toBe(true);
      const plain = to(await after.stop(), internet.v4);
      expect(plain.some((l) => /ICMP/.test(l))).toBe(true);
      expect(plain.some((l) => /Flags \[S\]/.test(l))).toBe(true);
      expect(plain.some((l) => l.includes(`${internet.v4}.53: `))).toBe(true);
      expect(await mainTableRoute()).toContain(`via ${lab.netns.serverAddress}`);
    } finally {
      await lab.inClient('ip', ['route', 'del', ...lanRoute], { check: false });
    }
    expect(leaked).toEqual([]);
  });

  it('exempts the helper\'s own marked socket, not every packet to the server\'s address and port (TunnelCrack ServerIP)', async () => {
    // What an ordinary process sends to the server's address: a ping, a TCP connection
    // attempt, and UDP to the server's own port from a port the engine does not use.
    const PROBE_PORT = 40_111;
    const address = lab.netns.serverAddress;
    const toServer = `host ${address} and (icmp or tcp or (udp and src port ${PROBE_PORT}))`;
    const probeServer = async (): Promise<string[]> => {
      const capture = await Capture.filtered(lab, toServer);
      await pingWorks(lab, address);
      await tcpProbe(lab, address);
      await udpProbeFrom(lab, PROBE_PORT, address, server.info.port);
      return capture.stop();
    };
    // Negative control: with no session all three leave.
    const plain = await probeServer();
    expect(plain.some((l) => /ICMP/.test(l))).toBe(true);
    expect(plain.some((l) => /Flags \[S\]/.test(l))).toBe(true);
    expect(plain.some((l) => l.includes(`.${PROBE_PORT} > ${address}.${server.info.port}: UDP`))).toBe(true);

    // A full tunnel with the LAN blocked: the server's address is outside the tunnel, and only
    // the engine's socket may reach it.
    const session = 'serverip';
    helper.connect(session, lab.engineConfig(server, {}, { killSwitch: false, allowLan: false }));
    await helper.waitForPhase(session, 'connected', 20_000);
    let leaked: string[];
    try {
      leaked = await probeServer();
      expect(await pingWorks(lab, server.info.tunnelAddress)).toBe(true); // the engine's socket still gets through
    } finally {
      helper.disconnect(session);
      await helper.waitForPhase(session, 'disconnected', 10_000);
    }
    expect(leaked).toEqual([]);
  });

  /**
   * Connects `session` with `config` (`whileUp` runs once it is connected), takes the server
   * away until the session reconnects, and returns what the capture saw while `probes` ran;
   * then the server comes back and the session ends.
   */
  async function captureWhileReconnecting(
    session: string,
    config: EngineConfig,
    probes: () => Promise<void>,
    whileUp: () => Promise<void> = async () => {},
  ): Promise<string[]> {
    helper.connect(session, config);
    await helper.waitForPhase(session, 'connected', 20_000);
    await whileUp();
    // Take the server away: the session notices (keepalive) and keeps trying to reconnect.
    const since = helper.messages.length;
    await server.stop();
    await helper.waitFor((m) => m.type === 'state' && m.session === session && m.phase === 'reconnecting', 20_000, since);
    try {
      const capture = await Capture.start(lab, server);
      await probes();
      return await capture.stop();
    } finally {
      await server.restart();
      helper.disconnect(session);
      await helper.waitForPhase(session, 'disconnected', 15_000);
    }
  }

  it('lets no IPv4 out in plaintext while a full tunnel reconnects, kill switch off', async () => {
    const config = lab.engineConfig(server, {}, { killSwitch: false, allowLan: true, connectRetryMax: null });
    const leaked = await captureWhileReconnecting('reconnect', config, async () => {
      expect(await probe(lab, internet.v4)).toBe(false);
      expect(await probe(lab, internet.v6)).toBe(false);
    });
    expect(to(leaked, internet.v4)).toEqual([]);
    expect(to(leaked, internet.v6)).toEqual([]);
    // Negative control: after the session the same probes go out again.
    expect(await helperTables(lab)).toEqual([]);
    const after = await Capture.start(lab, server);
    expect(await probe(lab, internet.v4)).toBe(true);
    expect(to(await after.stop(), internet.v4).length).toBeGreaterThan(0);
  });

  it('lets nothing but the VPN server through while the tunnel is down with the kill switch on', async () => {
    const config = lab.engineConfig(server, {}, { killSwitch: true, blockIpv6: true, connectRetryMax: null });
    const tunnelUp = async () => expect(await pingWorks(lab, server.info.tunnelAddress)).toBe(true);
    const probes = async () => {
      expect(await probe(lab, lab.netns.serverAddress)).toBe(false);
      expect(await probe(lab, SERVER_V6)).toBe(false);
      expect(await probe(lab, internet.v4)).toBe(false);
      expect(await probe(lab, internet.v6)).toBe(false);
      await sleep(2000); // reconnect attempts go on meanwhile; they are the only packets allowed
    };
    expect(await captureWhileReconnecting('killswitch', config, probes, tunnelUp)).toEqual([]);

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

  it('keeps a killed helper\'s protection until a session of the next helper takes over', async () => {
    const session = 'crash';
    helper.connect(session, lab.engineConfig(server, {}, { killSwitch: true }));
    await helper.waitForPhase(session, 'connected', 20_000);
    const [deadTable] = await helperTables(lab);
    expect(deadTable).toBeDefined();
    helper.kill('SIGKILL');
    await helper.waitForExit();
    // A crash is not a disconnect: nothing leaks, before or after a new helper starts.
    for (const restarted of [false, true]) {
      if (restarted) helper = await lab.startHelper();
      const capture = await Capture.start(lab, server);
      expect(await probe(lab, internet.v4)).toBe(false);
      expect(await probe(lab, internet.v6)).toBe(false);
      expect(await capture.stop()).toEqual([]);
      expect(await helperTables(lab)).toEqual([deadTable]);
    }
    // Main brings the session back with the new helper: its rules replace the dead ones.
    helper.connect('crash-again', lab.engineConfig(server, {}, { killSwitch: true }));
    await helper.waitForPhase('crash-again', 'connected', 20_000);
    const tables = await helperTables(lab);
    expect(tables).toHaveLength(1);
    expect(tables).not.toEqual([deadTable]);
    helper.disconnect('crash-again');
    await helper.waitForPhase('crash-again', 'disconnected', 10_000);
  });

  it('leaves nothing behind after disconnect: normal traffic, no table, route or device', async () => {
    expect(await helperTables(lab)).toEqual([]);
    expect(await lab.clientDevices()).toEqual([]);
    expect(await lab.clientRoutes()).toEqual(routesBefore);
    expect(await rulesAndTables(lab)).toEqual(rulesAndTablesBefore);
    const capture = await Capture.start(lab, server);
    expect(await probe(lab, internet.v4)).toBe(true);
    expect(await probe(lab, internet.v6)).toBe(true);
    const seen = await capture.stop();
    expect(to(seen, internet.v4).length).toBeGreaterThan(0);
    expect(to(seen, internet.v6).length).toBeGreaterThan(0);
  });

  it('spoke the protocol correctly throughout', () => {
    expect(helper.violations).toEqual([]);
  });
});
