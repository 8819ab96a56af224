// Engine features against stock openvpn 2.6 beyond the cipher matrix: authentication modes,
// client key types, topologies, IPv6 inside the tunnel, compression framing, routes and
// redirect-gateway, renegotiation under load, a server restart, concurrent sessions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, sleep, type HelperClient, type LabServer, type ServerOptions } from '../peers/lab/index.js';
import type { ClientChoices } from '../peers/lab/index.js';
import type { EngineConfig } from '../../app/helper-protocol/messages.js';
import { TRANSFER_BYTES, connectSession, disconnectSession, proveTraffic, serverHandshakes } from './engine-support.js';

describe('engine features against stock openvpn 2.6', () => {
  let lab: Lab;
  let helper: HelperClient;

  beforeAll(async () => {
    lab = await Lab.create();
    helper = await lab.startHelper();
  });

  afterAll(async () => {
    await lab?.close();
  });

  /** Starts a server, connects, proves traffic, disconnects, stops the server. */
  async function roundTrip(label: string, options: ServerOptions, choices: ClientChoices = {}): Promise<{ server: LabServer; session: string }> {
    const server = await lab.startServer(options);
    try {
      const session = await connectSession(helper, label, lab.engineConfig(server, choices));
      await proveTraffic(lab, server);
      await disconnectSession(lab, helper, session);
      return { server, session };
    } finally {
      await server.stop();
    }
  }

  it('authenticates with an EC client certificate', async () => {
    const { server } = await roundTrip('ec', { proto: 'udp', tlsWrap: 'tls-crypt' }, { clientCert: 'ec' });
    await server.process.waitForLog(/CN=client-ec/, 5_000);
  });

  it('authenticates with an RSA client certificate', async () => {
    const { server } = await roundTrip('rsa', { proto: 'tcp', tlsWrap: 'tls-auth' }, { clientCert: 'rsa' });
    await server.process.waitForLog(/CN=client-rsa/, 5_000);
  });

  it('authenticates with username and password only', async () => {
    const { server } = await roundTrip('password', { proto: 'udp', clientAuth: 'password' });
    await server.process.waitForLog(`'${lab.credentials.username}'`, 5_000);
  });

  it('authenticates with certificate and password together', async () => {
    await roundTrip('both', { proto: 'tcp', tlsWrap: 'tls-crypt', clientAuth: 'both' }, { clientCert: 'ec' });
  });

  // Questions the helper asks before it connects, each answered as the user would.
  interface PromptCase {
    name: string;
    session: string;
    server: ServerOptions;
    overrides: Partial<EngineConfig>;
    ask: Record<string, unknown>;
    response: () => string | null;
  }
  const PROMPTS: PromptCase[] = [
    {
      name: 'asks for a password when the profile has none, and connects with the answer',
      session: 'prompt-password',
      server: { proto: 'udp', tlsWrap: 'tls-crypt', clientAuth: 'both' },
      overrides: { credentials: null },
      ask: { kind: 'password', echo: false },
      response: () => null,
    },
    {
      name: 'answers a static challenge (SCRV1) with password and one-time code',
      session: 'static-challenge',
      server: { proto: 'tcp', tlsWrap: 'tls-auth', clientAuth: 'password' },
      overrides: { credentials: null, staticChallenge: { text: 'Enter your code', echo: true } },
      ask: { kind: 'static-challenge', challenge: 'Enter your code', echo: true },
      response: () => lab.otp,
    },
  ];
  for (const c of PROMPTS) {
    it(c.name, async () => {
      const server = await lab.startServer(c.server);
      try {
        helper.connect(c.session, lab.engineConfig(server, {}, c.overrides));
        const ask = await helper.waitFor((m) => m.type === 'needCredentials' && m.session === c.session, 20_000);
        expect(ask).toMatchObject(c.ask);
        helper.send({ type: 'credentials', session: c.session, ...lab.credentials, response: c.response() });
        await helper.waitForPhase(c.session, 'connected', 20_000);
        await proveTraffic(lab, server);
        await disconnectSession(lab, helper, c.session);
      } finally {
        await server.stop();
      }
    });
  }

  it('works with topology net30 (the server is reached through a pushed host route)', async () => {
    const server = await lab.startServer({ proto: 'udp', topology: 'net30' });
    try {
      const session = await connectSession(helper, 'net30', lab.engineConfig(server));
      const pushed = helper.pushed(session)!;
      expect(pushed.ipv4?.address).toMatch(new RegExp(`^${server.info.subnetPrefix.replace(/\./g, '\\.')}\\.`));
      await proveTraffic(lab, server);
      await disconnectSession(lab, helper, session);
    } finally {
      await server.stop();
    }
  });

  it('carries IPv6 inside the tunnel', async () => {
    const server = await lab.startServer({ proto: 'udp', tlsWrap: 'tls-crypt', ipv6: true });
    try {
      const session = await connectSession(helper, 'ipv6', lab.engineConfig(server));
      const pushed = helper.pushed(session)!;
      expect(pushed.ipv6?.address).toMatch(/^fd00:8:/);
      const address6 = server.info.tunnelAddress6!;
      await lab.ping(address6);
      const r = await lab.transfer(address6, 2 * 1024 * 1024);
      expect(r).toMatchObject({ ok: true, up: 2 * 1024 * 1024, down: 2 * 1024 * 1024 });
      await proveTraffic(lab, server);
      await disconnectSession(lab, helper, session);
    } finally {
      await server.stop();
    }
  });

  for (const compress of ['stub-v2', 'stub', 'lzo-no'] as const) {
    it(`interoperates with a server configured with compression (${compress}) without compressing`, async () => {
      await roundTrip(`compress-${compress}`, { proto: 'udp', compress });
    });
  }

  it('installs pushed routes and redirect-gateway def1, keeping the server reachable, and removes them', async () => {
    const server = await lab.startServer({
      proto: 'udp',
      tlsWrap: 'tls-crypt',
      push: ['route 10.123.0.0 255.255.0.0', 'redirect-gateway def1'],
    });
    try {
      const session = await connectSession(helper, 'routes', lab.engineConfig(server));
      const device = helper.pushed(session)!.device;
      const routes = await lab.clientRoutes();
      expect(routes).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`^0\\.0\\.0\\.0/1 .*dev ${device}`)),
          expect.stringMatching(new RegExp(`^128\\.0\\.0\\.0/1 .*dev ${device}`)),
          expect.stringMatching(new RegExp(`^10\\.123\\.0\\.0/16 .*dev ${device}`)),
          expect.stringMatching(new RegExp(`^${lab.netns.serverAddress.replace(/\./g, '\\.')} .*dev ${lab.netns.clientDevice}`)),
        ]),
      );
      // With every IPv4 destination routed into the tunnel, traffic still flows: the server
      // itself stays reachable outside it.
      await proveTraffic(lab, server);
      await disconnectSession(lab, helper, session);
      const after = await lab.clientRoutes();
      expect(after.filter((r) => /^(0\.0\.0\.0\/1|128\.0\.0\.0\/1|10\.123\.)/.test(r) || r.startsWith(`${lab.netns.serverAddress} `))).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it("applies the profile's own routes and redirect-gateway on top of what the server pushes", async () => {
    const server = await lab.startServer({ proto: 'tcp', tlsWrap: 'tls-crypt', push: ['route 10.123.0.0 255.255.0.0'] });
    try {
      const config = lab.engineConfig(server, {}, { routes: ['10.124.0.0/16'], redirectGateway: true });
      const session = await connectSession(helper, 'profile-routes', config);
      const device = helper.pushed(session)!.device;
      const routes = await lab.clientRoutes();
      for (const dst of ['0.0.0.0/1', '128.0.0.0/1', '10.123.0.0/16', '10.124.0.0/16']) {
        expect(routes.some((r) => r.startsWith(`${dst} `) && r.includes(`dev ${device}`)), `${dst} via ${device} in\n${routes.join('\n')}`).toBe(true);
      }
      await proveTraffic(lab, server);
      await disconnectSession(lab, helper, session);
      expect((await lab.clientRoutes()).filter((r) => r.includes(device))).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('renegotiates every 10 s under load without losing a transfer', async () => {
    const server = await lab.startServer({ proto: 'udp', tlsWrap: 'tls-crypt', renegSec: 10 });
    try {
      const session = await connectSession(helper, 'reneg', lab.engineConfig(server));
      const handshakesBefore = serverHandshakes(server);
      const until = Date.now() + 25_000;
      let transfers = 0;
      while (Date.now() < until) {
        const r = await lab.transfer(server.info.tunnelAddress, 8 * 1024 * 1024);
        expect(r).toMatchObject({ ok: true, up: 8 * 1024 * 1024, down: 8 * 1024 * 1024 });
        transfers++;
      }
      const handshakes = serverHandshakes(server) - handshakesBefore;
      expect(handshakes).toBeGreaterThanOrEqual(2);
      expect(transfers).toBeGreaterThan(3);
      expect(helper.messages.some((m) => m.type === 'state' && m.session === session && m.phase === 'reconnecting')).toBe(false);
      await proveTraffic(lab, server);
      await disconnectSession(lab, helper, session);
    } finally {
      await server.stop();
    }
  });

  for (const proto of ['udp', 'tcp'] as const) {
    it(`reconnects by itself when the server restarts mid-session (${proto})`, async () => {
      const server = await lab.startServer({ proto, tlsWrap: 'tls-crypt', keepalive: { interval: 1, timeout: 5 } });
      try {
        const session = await connectSession(helper, `restart-${proto}`, lab.engineConfig(server));
        await proveTraffic(lab, server);
        const mark = helper.messages.length;
        await server.restart();
        await helper.waitFor((m) => m.type === 'state' && m.session === session && m.phase === 'reconnecting', 30_000, mark);
        await helper.waitFor((m) => m.type === 'state' && m.session === session && m.phase === 'connected', 30_000, mark);
        await proveTraffic(lab, server);
        await disconnectSession(lab, helper, session);
      } finally {
        await server.stop();
      }
    });
  }

  it('fails over to the next remote when its server goes away, even with redirect-gateway', async () => {
    const options: ServerOptions = { proto: 'udp', tlsWrap: 'tls-crypt', push: ['redirect-gateway def1'], keepalive: { interval: 1, timeout: 4 } };
    const a = await lab.startServer(options);
    const b = await lab.startServer({ ...options, secondaryAddress: true });
    try {
      const remotes = [a, b].map((s) => ({ host: s.info.address, port: s.info.port, proto: 'udp' as const, family: 'any' as const }));
      const session = await connectSession(helper, 'failover', lab.engineConfig(a, {}, { remotes, connectRetryMax: null, handshakeWindowSec: 5 }));
      await proveTraffic(lab, a);
      const mark = helper.messages.length;
      await a.stop();
      const back = await helper.waitFor((m) => m.type === 'state' && m.session === session && m.phase === 'connected', 40_000, mark);
      expect(back).toMatchObject({ remote: { address: b.info.address } });
      // The host route now keeps the second server reachable outside the tunnel.
      const routes = await lab.clientRoutes();
      expect(routes.some((r) => r.startsWith(`${b.info.address} `) && r.includes(lab.netns.clientDevice))).toBe(true);
      await proveTraffic(lab, b);
      await disconnectSession(lab, helper, session);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('runs concurrent sessions on distinct TUN devices', async () => {
    const a = await lab.startServer({ proto: 'udp', tlsWrap: 'tls-crypt' });
    const b = await lab.startServer({ proto: 'tcp', tlsWrap: 'tls-crypt-v2' });
    try {
      const [sa, sb] = await Promise.all([
        connectSession(helper, 'multi-a', lab.engineConfig(a)),
        connectSession(helper, 'multi-b', lab.engineConfig(b, { clientCert: 'ec' })),
      ]);
      const devices = [helper.pushed(sa)!.device, helper.pushed(sb)!.device];
      expect(new Set(devices).size).toBe(2);
      expect(await lab.clientDevices()).toEqual(expect.arrayContaining(devices));
      await Promise.all([proveTraffic(lab, a), proveTraffic(lab, b)]);
      // The traffic shows up in the session's counters (periodic `stats` messages).
      for (const session of [sa, sb]) {
        await helper.waitFor(
          (m) => m.type === 'stats' && m.session === session && m.rxBytes > TRANSFER_BYTES && m.txBytes > TRANSFER_BYTES,
          15_000,
        );
      }
      helper.send({ type: 'status' });
      const mark = helper.messages.length;
      const status = await helper.waitFor((m) => m.type === 'statusReply', 5_000, mark - 1);
      expect(status.type === 'statusReply' && status.sessions.map((s) => [s.session, s.phase, s.device])).toEqual(
        expect.arrayContaining([
          [sa, 'connected', devices[0]],
          [sb, 'connected', devices[1]],
        ]),
      );
      await disconnectSession(lab, helper, sa);
      await proveTraffic(lab, b);
      await disconnectSession(lab, helper, sb);
      await sleep(100);
      expect(await lab.clientDevices()).toEqual([]);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('spoke the protocol correctly throughout', () => {
    expect(helper.violations).toEqual([]);
  });
});
