// Pushed DNS through the managed /etc/resolv.conf (the fallback when neither systemd-resolved
// nor resolvconf is in use). The client namespace gets its own resolv.conf (`ip netns exec`
// bind-mounts /etc/netns/<ns>/resolv.conf in a private mount namespace), and a name that only
// the DNS server inside the server namespace knows must resolve while connected and not after.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type HelperClient, type LabServer } from '../peers/lab/index.js';
import { FULL_TUNNEL_PUSH, NetnsResolvConf, PRIVATE_IP, PRIVATE_NAME, privateDnsOn, resolveInClient, SPLIT_DNS_PUSH, type DnsServer } from '../peers/dns/index.js';

const ORIGINAL = '# the LAN resolver\nnameserver 10.99.0.1\nsearch lan.example\noptions edns0\n';

describe('DNS through a managed /etc/resolv.conf', () => {
  let lab: Lab;
  let resolvConf: NetnsResolvConf;
  let fullTunnel: LabServer;
  let splitTunnel: LabServer;
  let dnsOption: LabServer;
  const dnsServers: DnsServer[] = [];
  let helper: HelperClient;

  beforeAll(async () => {
    lab = await Lab.create();
    resolvConf = new NetnsResolvConf(lab.netns.client, ORIGINAL);
    fullTunnel = await lab.startServer({ proto: 'udp', push: FULL_TUNNEL_PUSH });
    splitTunnel = await lab.startServer({ proto: 'udp', push: SPLIT_DNS_PUSH });
    // OpenVPN 2.6's `dns` option instead of dhcp-option, with its address:port syntax.
    dnsOption = await lab.startServer({
      proto: 'udp',
      push: ['redirect-gateway def1', 'dns server 0 address 10.8.3.1:53', 'dns search-domains corp.example'],
    });
    for (const s of [fullTunnel, splitTunnel, dnsOption]) {
      dnsServers.push(await privateDnsOn(lab, s));
    }
    helper = await lab.startHelper();
  });

  afterAll(async () => {
    for (const d of dnsServers) await d.stop();
    await lab?.close();
    resolvConf?.remove();
  });

  it('cannot resolve the private name before connecting', async () => {
    // The pushed DNS servers are the servers' own tunnel addresses (the lab numbers its
    // subnets from 1), reachable only through the tunnel.
    expect(fullTunnel.info.tunnelAddress).toBe('10.8.1.1');
    expect(splitTunnel.info.tunnelAddress).toBe('10.8.2.1');
    expect(dnsOption.info.tunnelAddress).toBe('10.8.3.1');
    expect(await resolveInClient(lab, PRIVATE_NAME)).toBeNull();
  });

  it('resolves it through the tunnel while connected, and not after; the file comes back byte for byte', async () => {
    const session = 'full';
    helper.connect(session, lab.engineConfig(fullTunnel));
    await helper.waitForPhase(session, 'connected', 20_000);
    expect(helper.pushed(session)?.dns).toEqual({ servers: ['10.8.1.1'], searchDomains: ['corp.example'], routeDomains: [] });

    const during = readFileSync(resolvConf.path, 'utf8');
    // The default route is in the tunnel: the LAN resolver must not see a single query.
    expect(during).toContain('nameserver 10.8.1.1\n');
    expect(during).not.toContain('10.99.0.1');
    expect(during).toContain('search corp.example\n');
    expect(during).toContain('options edns0\n');
    expect(await resolveInClient(lab, PRIVATE_NAME)).toBe(PRIVATE_IP);
    expect(await resolveInClient(lab, 'intranet')).toBe(PRIVATE_IP); // the pushed search domain applies
    expect(dnsServers[0]!.queries()).toContain(PRIVATE_NAME);

    helper.disconnect(session);
    await helper.waitForPhase(session, 'disconnected', 10_000);
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
    expect(await resolveInClient(lab, PRIVATE_NAME)).toBeNull();
  });

  it('puts the tunnel resolver first and keeps the LAN one for split DNS (DOMAIN-ROUTE)', async () => {
    const session = 'split';
    helper.connect(session, lab.engineConfig(splitTunnel));
    await helper.waitForPhase(session, 'connected', 20_000);
    const servers = readFileSync(resolvConf.path, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('nameserver'));
    expect(servers).toEqual(['nameserver 10.8.2.1', 'nameserver 10.99.0.1']);
    expect(await resolveInClient(lab, PRIVATE_NAME)).toBe(PRIVATE_IP);
    helper.disconnect(session);
    await helper.waitForPhase(session, 'disconnected', 10_000);
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
  });

  it("takes servers and domains from OpenVPN 2.6's dns option", async () => {
    const session = 'dns-option';
    helper.connect(session, lab.engineConfig(dnsOption));
    await helper.waitForPhase(session, 'connected', 20_000);
    const during = readFileSync(resolvConf.path, 'utf8');
    expect(during.split('\n').filter((l) => l.startsWith('nameserver'))).toEqual(['nameserver 10.8.3.1']);
    expect(during).toContain('search corp.example\n');
    expect(await resolveInClient(lab, 'intranet')).toBe(PRIVATE_IP);
    expect(dnsServers[2]!.queries()).toContain(PRIVATE_NAME);
    helper.disconnect(session);
    await helper.waitForPhase(session, 'disconnected', 10_000);
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
  });

  it('restores the file when the helper is stopped with SIGTERM', async () => {
    helper.connect('term', lab.engineConfig(fullTunnel));
    await helper.waitForPhase('term', 'connected', 20_000);
    expect(readFileSync(resolvConf.path, 'utf8')).not.toBe(ORIGINAL);
    helper.kill('SIGTERM');
    await helper.waitForExit();
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
    helper = await lab.startHelper();
  });

  it('restores the file left by a killed helper as soon as the next helper starts', async () => {
    helper.connect('crash', lab.engineConfig(fullTunnel));
    await helper.waitForPhase('crash', 'connected', 20_000);
    helper.kill('SIGKILL');
    await helper.waitForExit();
    expect(readFileSync(resolvConf.path, 'utf8')).toContain('nameserver 10.8.1.1');
    helper = await lab.startHelper();
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(ORIGINAL);
    await expect.poll(() => helper.stderr, { timeout: 5000 }).toMatch(/restored DNS of 1 tunnel/);
  });

  it('spoke the protocol correctly throughout', () => {
    expect(helper.violations).toEqual([]);
  });
});
