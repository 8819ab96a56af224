// The profile's own network options reach the OS through the helper: `route … net_gateway`
// exclusions keep their network on the client's original gateway under `redirect-gateway def1`,
// and the profile's `dhcp-option DNS`/`DOMAIN` land in the managed resolv.conf next to the
// pushed ones. Both are undone on disconnect, and after a crash by the next helper.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConfig } from '../../app/helper-protocol/messages.js';
import { useLab } from '../peers/lab/suite.js';
import { NetnsResolvConf, PRIVATE_IP, PRIVATE_NAME, privateDnsOn, resolveInClient, type DnsServer } from '../peers/dns/index.js';

const ORIGINAL = '# the LAN resolver\nnameserver 10.99.0.1\nsearch lan.example\n';
/** A network the profile keeps off the tunnel (TEST-NET-2) and one that goes through it (TEST-NET-3). */
const EXCLUDED_NET = '198.51.100.0/24';
const EXCLUDED_HOST = '198.51.100.7';
const TUNNELLED_HOST = '203.0.113.7';

describe("the profile's own routing exclusions and DNS options", () => {
  let resolvConf: NetnsResolvConf;
  let dns: DnsServer;
  const t = useLab({
    prepare: (lab) => {
      resolvConf = new NetnsResolvConf(lab.netns.client, ORIGINAL);
    },
    // The server pushes no route and no DNS server, only a search domain: all the rest must
    // come from the profile.
    servers: () => ({ main: { proto: 'udp', push: ['dhcp-option DOMAIN pushed.example'] } }),
    cleanup: () => resolvConf?.remove(),
  });
  beforeAll(async () => {
    dns = await privateDnsOn(t.lab, t.servers.main);
  });
  afterAll(() => dns?.stop());

  /** What a profile with `redirect-gateway def1`, a net_gateway route and dhcp-options becomes. */
  function profileConfig(): EngineConfig {
    return t.lab.engineConfig(t.servers.main, {}, {
      redirectGateway: true,
      excludedRoutes: [EXCLUDED_NET],
      // The DNS server listens on the server's tunnel address: reachable only through the tunnel.
      dns: { servers: [t.servers.main.info.tunnelAddress], searchDomains: ['corp.example'], routeDomains: [] },
    });
  }

  /** `ip route get` in the client namespace: the device and gateway the kernel would use. */
  async function routeTo(address: string): Promise<{ dev: string | null; via: string | null }> {
    const out = (await t.lab.inClient('ip', ['-4', 'route', 'get', address])).stdout;
    return { dev: /\bdev (\S+)/.exec(out)?.[1] ?? null, via: /\bvia (\S+)/.exec(out)?.[1] ?? null };
  }


  it('routes the excluded network via the original gateway while connected, and removes it after', async () => {
    const original = await routeTo(EXCLUDED_HOST);
    expect(original).toEqual({ dev: t.lab.netns.clientDevice, via: t.lab.netns.serverAddress });
    expect(await t.lab.inClient('ip', ['-4', 'route', 'show', 'table', 'all', EXCLUDED_NET]).then((r) => r.stdout.trim())).toBe('');

    t.helper.connect('excl', profileConfig());
    await t.helper.waitForPhase('excl', 'connected', 20_000);
    const device = t.helper.pushed('excl')!.device;
    // def1 from the profile captures everything else...
    expect(await routeTo(TUNNELLED_HOST)).toMatchObject({ dev: device });
    // ...but not the excluded network, which keeps the LAN's gateway.
    expect(await routeTo(EXCLUDED_HOST)).toEqual({ dev: t.lab.netns.clientDevice, via: t.lab.netns.serverAddress });
    expect((await t.lab.inClient('ip', ['-4', 'route', 'show', 'table', 'all', EXCLUDED_NET])).stdout).toContain(
      `${EXCLUDED_NET} via ${t.lab.netns.serverAddress} dev ${t.lab.netns.clientDevice}`,
    );
    await t.lab.ping(t.servers.main.info.tunnelAddress);

    t.helper.disconnect('excl');
    await t.helper.waitForPhase('excl', 'disconnected', 10_000);
    expect((await t.lab.inClient('ip', ['-4', 'route', 'show', 'table', 'all', EXCLUDED_NET])).stdout.trim()).toBe('');
    expect(await routeTo(TUNNELLED_HOST)).toEqual(original);
  });

  it("puts the profile's DNS server and domain first in resolv.conf, keeps the pushed domain, and restores the file", async () => {
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBeNull();
    t.helper.connect('dns', profileConfig());
    await t.helper.waitForPhase('dns', 'connected', 20_000);
    // The pushed settings report what the server sent; the profile's additions are the helper's.
    expect(t.helper.pushed('dns')?.dns).toEqual({ servers: [], searchDomains: ['pushed.example'], routeDomains: [] });

    const during = readFileSync(resolvConf.path, 'utf8');
    expect(during.split('\n').filter((l) => l.startsWith('nameserver'))).toEqual([`nameserver ${t.servers.main.info.tunnelAddress}`]);
    expect(during).toContain('search corp.example pushed.example\n');
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBe(PRIVATE_IP);
    expect(await resolveInClient(t.lab, 'intranet')).toBe(PRIVATE_IP); // the profile's search domain applies
    expect(dns.queries()).toContain(PRIVATE_NAME);

    t.helper.disconnect('dns');
    await t.helper.waitForPhase('dns', 'disconnected', 10_000);
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBeNull();
  });

  it('records the excluded route for crash recovery: the next helper removes what a killed one left', async () => {
    t.helper.connect('crash', profileConfig());
    await t.helper.waitForPhase('crash', 'connected', 20_000);
    t.helper.kill('SIGKILL');
    await t.helper.waitForExit();
    // The TUN device died with the process; the route via the LAN gateway did not.
    expect((await t.lab.inClient('ip', ['-4', 'route', 'show', 'table', 'all', EXCLUDED_NET])).stdout).toContain(EXCLUDED_NET);
    t.helper = await t.lab.startHelper();
    await expect
      .poll(async () => (await t.lab.inClient('ip', ['-4', 'route', 'show', 'table', 'all', EXCLUDED_NET])).stdout.trim(), { timeout: 5000 })
      .toBe('');
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
  });

  it('spoke the protocol correctly throughout', () => {
    expect(t.helper.violations).toEqual([]);
  });
});
