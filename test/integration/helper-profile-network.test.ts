// The profile's own network options reach the OS through the helper: `route … net_gateway`
// exclusions keep their network on the client's original gateway under `redirect-gateway def1`,
// and the profile's `dhcp-option DNS`/`DOMAIN` land in the managed resolv.conf next to the
// pushed ones. Both are undone on disconnect, and after a crash by the next helper.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConfig } from '../../app/helper-protocol/messages.js';
import { Lab, type HelperClient, type LabServer } from '../peers/lab/index.js';
import { DnsServer, NetnsResolvConf } from '../peers/dns/index.js';

const ORIGINAL = '# the LAN resolver\nnameserver 10.99.0.1\nsearch lan.example\n';
/** A network the profile keeps off the tunnel (TEST-NET-2) and one that goes through it (TEST-NET-3). */
const EXCLUDED_NET = '198.51.100.0/24';
const EXCLUDED_HOST = '198.51.100.7';
const TUNNELLED_HOST = '203.0.113.7';
const PRIVATE_NAME = 'intranet.corp.example';
const PRIVATE_IP = '10.77.0.7';

describe("the profile's own routing exclusions and DNS options", () => {
  let lab: Lab;
  let resolvConf: NetnsResolvConf;
  let server: LabServer;
  let dns: DnsServer;
  let helper: HelperClient;

  /** What a profile with `redirect-gateway def1`, a net_gateway route and dhcp-options becomes. */
  function profileConfig(): EngineConfig {
    return lab.engineConfig(server, {}, {
      redirectGateway: true,
      excludedRoutes: [EXCLUDED_NET],
      // The DNS server listens on the server's tunnel address: reachable only through the tunnel.
      dns: { servers: [server.info.tunnelAddress], searchDomains: ['corp.example'], routeDomains: [] },
    });
  }

  /** `ip route get` in the client namespace: the device and gateway the kernel would use. */
  async function routeTo(address: string): Promise<{ dev: string | null; via: string | null }> {
    const out = (await lab.inClient('ip', ['-4', 'route', 'get', address])).stdout;
    return { dev: /\bdev (\S+)/.exec(out)?.[1] ?? null, via: /\bvia (\S+)/.exec(out)?.[1] ?? null };
  }

  async function resolve(name: string): Promise<string | null> {
    const r = await lab.inClient('getent', ['ahostsv4', name], { check: false, timeoutMs: 30_000 });
    return r.code === 0 ? (r.stdout.split(/\s+/)[0] ?? null) : null;
  }

  beforeAll(async () => {
    lab = await Lab.create();
    resolvConf = new NetnsResolvConf(lab.netns.client, ORIGINAL);
    // The server pushes no route and no DNS server, only a search domain: all the rest must
    // come from the profile.
    server = await lab.startServer({ proto: 'udp', push: ['dhcp-option DOMAIN pushed.example'] });
    dns = await DnsServer.start(lab.netns.server, server.info.tunnelAddress, { [PRIVATE_NAME]: PRIVATE_IP });
    helper = await lab.startHelper();
  });

  afterAll(async () => {
    await dns?.stop();
    await lab?.close();
    resolvConf?.remove();
  });

  it('routes the excluded network via the original gateway while connected, and removes it after', async () => {
    const original = await routeTo(EXCLUDED_HOST);
    expect(original).toEqual({ dev: lab.netns.clientDevice, via: lab.netns.serverAddress });
    expect(await lab.inClient('ip', ['-4', 'route', 'show', 'table', 'all', EXCLUDED_NET]).then((r) => r.stdout.trim())).toBe('');

    helper.connect('excl', profileConfig());
    await helper.waitForPhase('excl', 'connected', 20_000);
    const device = helper.pushed('excl')!.device;
    // def1 from the profile captures everything else...
    expect(await routeTo(TUNNELLED_HOST)).toMatchObject({ dev: device });
    // ...but not the excluded network, which keeps the LAN's gateway.
    expect(await routeTo(EXCLUDED_HOST)).toEqual({ dev: lab.netns.clientDevice, via: lab.netns.serverAddress });
    expect((await lab.inClient('ip', ['-4', 'route', 'show', 'table', 'all', EXCLUDED_NET])).stdout).toContain(
      `${EXCLUDED_NET} via ${lab.netns.serverAddress} dev ${lab.netns.clientDevice}`,
    );
    await lab.ping(server.info.tunnelAddress);

    helper.disconnect('excl');
    await helper.waitForPhase('excl', 'disconnected', 10_000);
    expect((await lab.inClient('ip', ['-4', 'route', 'show', 'table', 'all', EXCLUDED_NET])).stdout.trim()).toBe('');
    expect(await routeTo(TUNNELLED_HOST)).toEqual(original);
  });

  it("puts the profile's DNS server and domain first in resolv.conf, keeps the pushed domain, and restores the file", async () => {
    expect(await resolve(PRIVATE_NAME)).toBeNull();
    helper.connect('dns', profileConfig());
    await helper.waitForPhase('dns', 'connected', 20_000);
    // The pushed settings report what the server sent; the profile's additions are the helper's.
    expect(helper.pushed('dns')?.dns).toEqual({ servers: [], searchDomains: ['pushed.example'], routeDomains: [] });

    const during = readFileSync(resolvConf.path, 'utf8');
    expect(during.split('\n').filter((l) => l.startsWith('nameserver'))).toEqual([`nameserver ${server.info.tunnelAddress}`]);
    expect(during).toContain('search corp.example pushed.example\n');
    expect(await resolve(PRIVATE_NAME)).toBe(PRIVATE_IP);
    expect(await resolve('intranet')).toBe(PRIVATE_IP); // the profile's search domain applies
    expect(dns.queries()).toContain(PRIVATE_NAME);

    helper.disconnect('dns');
    await helper.waitForPhase('dns', 'disconnected', 10_000);
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
    expect(await resolve(PRIVATE_NAME)).toBeNull();
  });

  it('records the excluded route for crash recovery: the next helper removes what a killed one left', async () => {
    helper.connect('crash', profileConfig());
    await helper.waitForPhase('crash', 'connected', 20_000);
    helper.kill('SIGKILL');
    await helper.waitForExit();
    // The TUN device died with the process; the route via the LAN gateway did not.
    expect((await lab.inClient('ip', ['-4', 'route', 'show', 'table', 'all', EXCLUDED_NET])).stdout).toContain(EXCLUDED_NET);
    helper = await lab.startHelper();
    await expect
      .poll(async () => (await lab.inClient('ip', ['-4', 'route', 'show', 'table', 'all', EXCLUDED_NET])).stdout.trim(), { timeout: 5000 })
      .toBe('');
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
  });

  it('spoke the protocol correctly throughout', () => {
    expect(helper.violations).toEqual([]);
  });
});
