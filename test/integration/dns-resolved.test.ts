// Pushed DNS through a real systemd-resolved (Debian's package, run on a private D-Bus system
// bus inside the client namespace; see test/peers/dns/resolved.ts). The client namespace's
// resolv.conf points at resolved's stub, as on a stock Ubuntu or Fedora desktop; the helper
// must set per-link servers and domains over D-Bus and revert them on disconnect.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLab } from '../peers/lab/suite.js';
import { FULL_TUNNEL_PUSH, NetnsResolvConf, PRIVATE_IP, PRIVATE_NAME, PrivateResolved, privateDnsOn, resolveInClient, SPLIT_DNS_PUSH, stopAll, type DnsServer } from '../peers/dns/index.js';

const STUB = 'nameserver 127.0.0.53\noptions edns0 trust-ad\n';
/** netguard's crash journal (native/helper/src/netguard/journal.rs DEFAULT_DIR). */
const JOURNAL = '/var/lib/causeway/netguard';

describe('DNS through systemd-resolved (D-Bus)', () => {
  let resolvConf: NetnsResolvConf;
  let resolved: PrivateResolved;
  const dnsServers: DnsServer[] = [];
  const t = useLab({
    prepare: async (lab) => {
      resolvConf = new NetnsResolvConf(lab.netns.client, STUB);
      resolved = await PrivateResolved.start(lab.netns.client);
    },
    servers: () => ({
      fullTunnel: { proto: 'udp', push: FULL_TUNNEL_PUSH },
      splitTunnel: { proto: 'udp', push: SPLIT_DNS_PUSH },
    }),
    helperEnv: () => ({ DBUS_SYSTEM_BUS_ADDRESS: resolved.busAddress }),
    cleanup: async () => {
      await resolved?.stop();
      resolvConf?.remove();
    },
  });
  beforeAll(async () => {
    // The lab numbers its subnets from 1: these are the servers' own tunnel addresses.
    expect([t.servers.fullTunnel.info.tunnelAddress, t.servers.splitTunnel.info.tunnelAddress]).toEqual(['10.8.1.1', '10.8.2.1']);
    for (const s of Object.values(t.servers)) dnsServers.push(await privateDnsOn(t.lab, s));
  });
  afterAll(() => stopAll(dnsServers));

  it('routes every name to the tunnel (~.) when it takes the default route, and reverts on disconnect', async () => {
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBeNull();
    const session = 'full';
    t.helper.connect(session, t.lab.engineConfig(t.servers.fullTunnel));
    await t.helper.waitForPhase(session, 'connected', 20_000);
    const device = t.helper.pushed(session)!.device;

    const link = await resolved.resolvectl(t.lab.netns.client, ['status', device]);
    expect(link).toMatch(/Current Scopes: DNS/);
    expect(link).toMatch(/DNS Servers: 10\.8\.1\.1/);
    expect(link).toMatch(/DNS Domain: corp\.example ~\./);
    expect(link).toMatch(/Default Route: yes|\+DefaultRoute/);
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBe(PRIVATE_IP);
    expect(dnsServers[0]!.queries()).toContain(PRIVATE_NAME);
    // resolv.conf is resolved's business: the helper left it alone.
    expect(readFileSync(resolvConf.path, 'utf8')).toBe(STUB);
    await expect.poll(() => t.helper.stderr, { timeout: 5000 }).toMatch(/DNS for \S+ set through systemd-resolved/);

    t.helper.disconnect(session);
    await t.helper.waitForPhase(session, 'disconnected', 10_000);
    expect(await resolved.resolvectl(t.lab.netns.client, ['status'])).not.toContain('10.8.1.1');
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBeNull();
  });

  it('gives the tunnel only its DOMAIN-ROUTE names for split DNS', async () => {
    const session = 'split';
    t.helper.connect(session, t.lab.engineConfig(t.servers.splitTunnel));
    await t.helper.waitForPhase(session, 'connected', 20_000);
    const device = t.helper.pushed(session)!.device;
    const link = await resolved.resolvectl(t.lab.netns.client, ['status', device]);
    expect(link).toMatch(/DNS Servers: 10\.8\.2\.1/);
    expect(link).toMatch(/DNS Domain: ~corp\.example/);
    expect(link).not.toContain('~.');
    expect(link).toMatch(/Default Route: no|-DefaultRoute/);
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBe(PRIVATE_IP);
    t.helper.disconnect(session);
    await t.helper.waitForPhase(session, 'disconnected', 10_000);
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBeNull();
  });

  it('loses the link settings with a killed helper, and the next helper retires its record', async () => {
    t.helper.connect('crash', t.lab.engineConfig(t.servers.fullTunnel));
    await t.helper.waitForPhase('crash', 'connected', 20_000);
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBe(PRIVATE_IP);
    const journal = () => readdirSync(JOURNAL).filter((f) => f.startsWith(`dns-${t.helper.pid}-`));
    const records = journal();
    expect(records).toHaveLength(1);
    t.helper.kill('SIGKILL');
    await t.helper.waitForExit();
    // The TUN device died with the helper, and resolved dropped its settings with it.
    expect(await resolved.resolvectl(t.lab.netns.client, ['status'])).not.toContain('10.8.1.1');
    expect(await resolveInClient(t.lab, PRIVATE_NAME)).toBeNull();
    t.helper = await t.lab.startHelper({ DBUS_SYSTEM_BUS_ADDRESS: resolved.busAddress });
    expect(readdirSync(JOURNAL)).not.toContain(records[0]);
  });

  it('spoke the protocol correctly throughout', () => {
    expect(t.helper.violations).toEqual([]);
  });
});
