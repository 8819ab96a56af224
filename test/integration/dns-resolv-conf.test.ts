// Pushed DNS through the managed /etc/resolv.conf (the fallback when neither systemd-resolved
// nor resolvconf is in use). The client namespace gets its own resolv.conf (`ip netns exec`
// bind-mounts /etc/netns/<ns>/resolv.conf in a private mount namespace), and a name that only
// the DNS server inside the server namespace knows must resolve while connected and not after.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../peers/lab/suite.js';
import { FULL_TUNNEL_PUSH, NetnsResolvConf, PRIVATE_IP, PRIVATE_NAME, privateDnsOn, resolveInClient, SPLIT_DNS_PUSH, stopAll, type DnsServer } from '../peers/dns/index.js';

const ORIGINAL = '# the LAN resolver\nnameserver 10.99.0.1\nsearch lan.example\noptions edns0\n';

describe('DNS through a managed /etc/resolv.conf', () => {
  let resolvConf: NetnsResolvConf;
  const dnsServers: DnsServer[] = [];
  const t = useLab({
    prepare: (lab) => {
      resolvConf = new NetnsResolvConf(lab.netns.client, ORIGINAL);
    },
    servers: () => ({
      fullTunnel: { proto: 'udp', push: FULL_TUNNEL_PUSH },
      splitTunnel: { proto: 'udp', push: SPLIT_DNS_PUSH },
      // OpenVPN 2.6's `dns` option instead of dhcp-option, with its address:port syntax.
      dnsOption: { proto: 'udp', push: ['redirect-gateway def1', 'dns server 0 address 10.8.3.1:53', 'dns search-domains corp.example'] },
    }),
    cleanup: () => resolvConf?.remove(),
  });
  beforeAll(async () => {
    for (const s of Object.values(t.servers)) dnsServers.push(await privateDnsOn(t.lab, s));
  });
  afterAll(() => stopAll(dnsServers));

  it('cannot resolve the private name before connecting', async () => {
    // The pushed DNS servers are the servers' own tunnel addresses (the lab numbers its
    // subnets from 1), reachable only through the tunnel.
    expect(t.servers.fullTunnel.info.tunnelAddress).toBe('10.8.1.1');
    expect(t.servers.splitTunnel.info.tunnelAddress).toBe('10.8.2.1');
    expect(t.servers.dnsOption.info.tunnelAddress).toBe('10.8.3.1');
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBeNull();
  });

  it('resolves it through the tunnel while connected, and not after; the file comes back byte for byte', async () => {
    const session = 'full';
    t.helper.connect(session, t.lab.engineConfig(t.servers.fullTunnel));
    await t.helper.waitForPhase(session, 'connected', 20_000);
    expect(t.helper.pushed(session)?.dns).toEqual({ servers: ['10.8.1.1'], searchDomains: ['corp.example'], routeDomains: [] });

    const during = readFileSync(resolvConf.path, 'utf8');
    // The default route is in the tunnel: the LAN resolver must not see a single query.
    expect(during).toContain('nameserver 10.8.1.1\n');
    expect(during).not.toContain('10.99.0.1');
    expect(during).toContain('search corp.example\n');
    expect(during).toContain('options edns0\n');
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBe(PRIVATE_IP);
    expect(await resolveInClient(t.lab, 'intranet')).toBe(PRIVATE_IP); // the pushed search domain applies
    expect(dnsServers[0]!.queries()).toContain(PRIVATE_NAME);

    t.helper.disconnect(session);
    await t.helper.waitForPhase(session, 'disconnected', 10_000);
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBeNull();
  });

  it('puts the tunnel resolver first and keeps the LAN one for split DNS (DOMAIN-ROUTE)', async () => {
    const session = 'split';
    t.helper.connect(session, t.lab.engineConfig(t.servers.splitTunnel));
    await t.helper.waitForPhase(session, 'connected', 20_000);
    const servers = readFileSync(resolvConf.path, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('nameserver'));
    expect(servers).toEqual(['nameserver 10.8.2.1', 'nameserver 10.99.0.1']);
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBe(PRIVATE_IP);
    t.helper.disconnect(session);
    await t.helper.waitForPhase(session, 'disconnected', 10_000);
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
  });

  it("takes servers and domains from OpenVPN 2.6's dns option", async () => {
    const session = 'dns-option';
    t.helper.connect(session, t.lab.engineConfig(t.servers.dnsOption));
    await t.helper.waitForPhase(session, 'connected', 20_000);
    const during = readFileSync(resolvConf.path, 'utf8');
    expect(during.split('\n').filter((l) => l.startsWith('nameserver'))).toEqual(['nameserver 10.8.3.1']);
    expect(during).toContain('search corp.example\n');
    expect(await resolveInClient(t.lab, 'intranet')).toBe(PRIVATE_IP);
    expect(dnsServers[2]!.queries()).toContain(PRIVATE_NAME);
    t.helper.disconnect(session);
    await t.helper.waitForPhase(session, 'disconnected', 10_000);
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
  });

  it('restores the file when the helper is stopped with SIGTERM', async () => {
    t.helper.connect('term', t.lab.engineConfig(t.servers.fullTunnel));
    await t.helper.waitForPhase('term', 'connected', 20_000);
    expect(readFileSync(resolvConf.path, 'utf8')).not.toBe(ORIGINAL);
    t.helper.kill('SIGTERM');
    await t.helper.waitForExit();
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
    t.helper = await t.lab.startHelper();
  });

  it('restores the file left by a killed helper as soon as the next helper starts', async () => {
    t.helper.connect('crash', t.lab.engineConfig(t.servers.fullTunnel));
    await t.helper.waitForPhase('crash', 'connected', 20_000);
    t.helper.kill('SIGKILL');
    await t.helper.waitForExit();
    expect(readFileSync(resolvConf.path, 'utf8')).toContain('nameserver 10.8.1.1');
    t.helper = await t.lab.startHelper();
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
    await expect.poll(() => t.helper.stderr, { timeout: 5000 }).toMatch(/restored DNS of 1 tunnel/);
  });

  it('spoke the protocol correctly throughout', () => {
    expect(t.helper.violations).toEqual([]);
  });
});
