// Pushed DNS through a real systemd-resolved (Debian's package, run on a private D-Bus system
// bus inside the client namespace; see test/peers/dns/resolved.ts). The client namespace's
// resolv.conf points at resolved's stub, as on a stock Ubuntu or Fedora desktop; the helper
// must set per-link servers and domains over D-Bus and revert them on disconnect.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab, type HelperClient, type LabServer } from '../peers/lab/index.js';
import { FULL_TUNNEL_PUSH, NetnsResolvConf, PRIVATE_IP, PRIVATE_NAME, PrivateResolved, privateDnsOn, resolveInClient, SPLIT_DNS_PUSH, type DnsServer } from '../peers/dns/index.js';

const STUB = 'nameserver 127.0.0.53\noptions edns0 trust-ad\n';
/** netguard's crash journal (native/helper/src/netguard/journal.rs DEFAULT_DIR). */
const JOURNAL = '/var/lib/causeway/netguard';

describe('DNS through systemd-resolved (D-Bus)', () => {
  let lab: Lab;
  let resolvConf: NetnsResolvConf;
  let resolved: PrivateResolved;
  let fullTunnel: LabServer;
  let splitTunnel: LabServer;
  const dnsServers: DnsServer[] = [];
  let helper: HelperClient;

  beforeAll(async () => {
    lab = await Lab.create();
    resolvConf = new NetnsResolvConf(lab.netns.client, STUB);
    resolved = await PrivateResolved.start(lab.netns.client);
    // The lab numbers its subnets from 1: these are the servers' own tunnel addresses.
    fullTunnel = await lab.startServer({ proto: 'udp', push: FULL_TUNNEL_PUSH });
    splitTunnel = await lab.startServer({ proto: 'udp', push: SPLIT_DNS_PUSH });
    expect([fullTunnel.info.tunnelAddress, splitTunnel.info.tunnelAddress]).toEqual(['10.8.1.1', '10.8.2.1']);
    for (const s of [fullTunnel, splitTunnel]) {
      dnsServers.push(await privateDnsOn(lab, s));
    }
    helper = await lab.startHelper({ DBUS_SYSTEM_BUS_ADDRESS: resolved.busAddress });
  });

  afterAll(async () => {
    for (const d of dnsServers) await d.stop();
    await lab?.close();
    await resolved?.stop();
    resolvConf?.remove();
  });

  it('routes every name to the tunnel (~.) when it takes the default route, and reverts on disconnect', async () => {
    expect(await resolveInClient(lab, PRIVATE_NAME)).toBeNull();
    const session = 'full';
    helper.connect(session, lab.engineConfig(fullTunnel));
    await helper.waitForPhase(session, 'connected', 20_000);
    const device = helper.pushed(session)!.device;

    const link = await resolved.resolvectl(lab.netns.client, ['status', device]);
    expect(link).toMatch(/Current Scopes: DNS/);
    expect(link).toMatch(/DNS Servers: 10\.8\.1\.1/);
    expect(link).toMatch(/DNS Domain: corp\.example ~\./);
    expect(link).toMatch(/Default Route: yes|\+DefaultRoute/);
    expect(await resolveInClient(lab, PRIVATE_NAME)).toBe(PRIVATE_IP);
    expect(dnsServers[0]!.queries()).toContain(PRIVATE_NAME);
    // resolv.conf is resolved's business: the helper left it alone.
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(STUB);
    await expect.poll(() => helper.stderr, { timeout: 5000 }).toMatch(/DNS for \S+ set through systemd-resolved/);

    helper.disconnect(session);
    await helper.waitForPhase(session, 'disconnected', 10_000);
    expect(await resolved.resolvectl(lab.netns.client, ['status'])).not.toContain('10.8.1.1');
    expect(await resolveInClient(lab, PRIVATE_NAME)).toBeNull();
  });

  it('gives the tunnel only its DOMAIN-ROUTE names for split DNS', async () => {
    const session = 'split';
    helper.connect(session, lab.engineConfig(splitTunnel));
    await helper.waitForPhase(session, 'connected', 20_000);
    const device = helper.pushed(session)!.device;
    const link = await resolved.resolvectl(lab.netns.client, ['status', device]);
    expect(link).toMatch(/DNS Servers: 10\.8\.2\.1/);
    expect(link).toMatch(/DNS Domain: ~corp\.example/);
    expect(link).not.toContain('~.');
    expect(link).toMatch(/Default Route: no|-DefaultRoute/);
    expect(await resolveInClient(lab, PRIVATE_NAME)).toBe(PRIVATE_IP);
    helper.disconnect(session);
    await helper.waitForPhase(session, 'disconnected', 10_000);
    expect(await resolveInClient(lab, PRIVATE_NAME)).toBeNull();
  });

  it('loses the link settings with a killed helper, and the next helper retires its record', async () => {
    helper.connect('crash', lab.engineConfig(fullTunnel));
    await helper.waitForPhase('crash', 'connected', 20_000);
    expect(await resolveInClient(lab, PRIVATE_NAME)).toBe(PRIVATE_IP);
    const journal = () => readdirSync(JOURNAL).filter((f) => f.startsWith(`dns-${helper.pid}-`));
    const records = journal();
    expect(records).toHaveLength(1);
    helper.kill('SIGKILL');
    await helper.waitForExit();
    // The TUN device died with the helper, and resolved dropped its settings with it.
    expect(await resolved.resolvectl(lab.netns.client, ['status'])).not.toContain('10.8.1.1');
    expect(await resolveInClient(lab, PRIVATE_NAME)).toBeNull();
    helper = await lab.startHelper({ DBUS_SYSTEM_BUS_ADDRESS: resolved.busAddress });
    expect(readdirSync(JOURNAL)).not.toContain(records[0]);
  });

  it('spoke the protocol correctly throughout', () => {
    expect(helper.violations).toEqual([]);
  });
});
