// Pushed DNS through resolvconf: Debian's openresolv package, unpacked (not installed) into a
// throwaway root — a private mount namespace with overlays on /usr and /etc — where the helper
// runs and finds it as /usr/sbin/resolvconf, as on a system that has it installed. The LAN's
// resolver is registered with resolvconf first, as dhclient or NetworkManager would.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsServer } from '../peers/dns/index.js';
import { unpackedDebianPackage } from '../peers/dns/debian-package.js';
import { HelperClient, Lab, LabProcess, run, type LabServer } from '../peers/lab/index.js';

const PRIVATE_NAME = 'intranet.corp.example';
const PRIVATE_IP = '10.77.0.7';
const LAN = 'nameserver 10.99.0.1';

describe('DNS through resolvconf (openresolv)', () => {
  let lab: Lab;
  let fullTunnel: LabServer;
  let splitTunnel: LabServer;
  const dnsServers: DnsServer[] = [];
  let scratch: string;
  let holder: LabProcess;
  let helper: HelperClient;

  /** Runs `argv` in the throwaway root (and the client network namespace when `inClient`). */
  const inRoot = (argv: string[], inClient = true) =>
    spawnSync('nsenter', ['-t', String(holder.pid), '-m', ...(inClient ? ['ip', 'netns', 'exec', lab.netns.client] : []), ...argv], {
      encoding: 'utf8',
      timeout: 30_000,
    });
  const resolvConf = () => inRoot(['cat', '/etc/resolv.conf'], false).stdout;
  const nameservers = () =>
    resolvConf()
      .split('\n')
      .filter((l) => l.startsWith('nameserver'));
  // Asynchronous, so the DNS server's query log keeps flowing in meanwhile.
  const resolve = async (name: string) => {
    const argv = ['-t', String(holder.pid), '-m', 'ip', 'netns', 'exec', lab.netns.client, 'getent', 'ahostsv4', name];
    const r = await run('nsenter', argv, { check: false, timeoutMs: 30_000 });
    return r.code === 0 ? (r.stdout.split(/\s+/)[0] ?? null) : null;
  };

  beforeAll(async () => {
    const openresolv = await unpackedDebianPackage('openresolv', 'sbin/resolvconf');
    lab = await Lab.create();
    fullTunnel = await lab.startServer({
      proto: 'udp',
      push: ['redirect-gateway def1', 'dhcp-option DNS 10.8.1.1', 'dhcp-option DOMAIN corp.example'],
    });
    splitTunnel = await lab.startServer({ proto: 'udp', push: ['dhcp-option DNS 10.8.2.1', 'dhcp-option DOMAIN-ROUTE corp.example'] });
    expect([fullTunnel.info.tunnelAddress, splitTunnel.info.tunnelAddress]).toEqual(['10.8.1.1', '10.8.2.1']);
    for (const s of [fullTunnel, splitTunnel]) {
      dnsServers.push(await DnsServer.start(lab.netns.server, s.info.tunnelAddress, { [PRIVATE_NAME]: PRIVATE_IP }));
    }

    // The throwaway root, made after the lab so it sees the lab's namespace handles.
    scratch = mkdtempSync(join(tmpdir(), 'causeway-resolvconf-'));
    const setup = `set -e
for d in usr etc; do
  mkdir -p "$S/$d.upper" "$S/$d.work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$S/$d.upper,workdir=$S/$d.work" "/$d"
done
install -m 0755 "$PKG/sbin/resolvconf" /usr/sbin/resolvconf
cp -r "$PKG/lib/resolvconf" /usr/lib/resolvconf
printf 'resolv_conf=/etc/resolv.conf\\nstate_dir=/etc/resolvconf-state\\n' > /etc/resolvconf.conf
echo '${LAN}' | resolvconf -a lan0.dhcp
echo ready
exec sleep 3600
`;
    holder = new LabProcess(
      spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', setup], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', S: scratch, PKG: openresolv },
      }),
      'throwaway root',
    );
    await holder.waitForLog('ready', 15_000);
    helper = await HelperClient.start({ prefix: ['nsenter', '-t', String(holder.pid), '-m'], netns: lab.netns.client });
  }, 180_000);

  afterAll(async () => {
    await helper?.close().catch(() => helper.kill('SIGKILL'));
    for (const d of dnsServers) await d.stop();
    await lab?.close();
    await holder?.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('starts from the LAN resolver that resolvconf manages', async () => {
    expect(nameservers()).toEqual([LAN]);
    expect(await resolve(PRIVATE_NAME)).toBeNull();
  });

  it('makes the tunnel the only resolver when it takes the default route, and gives the LAN back after', async () => {
    helper.connect('full', lab.engineConfig(fullTunnel));
    await helper.waitForPhase('full', 'connected', 20_000);
    expect(helper.stderr).toMatch(/DNS for (\S+) set through resolvconf/);
    const device = helper.pushed('full')!.device;
    expect(inRoot(['resolvconf', '-i'], false).stdout.split(/\s+/)).toContain(`vpn.causeway-${device}`);
    expect(nameservers()).toEqual(['nameserver 10.8.1.1']);
    expect(resolvConf()).toMatch(/^search corp\.example$/m);
    expect(await resolve(PRIVATE_NAME)).toBe(PRIVATE_IP);
    expect(dnsServers[0]!.queries()).toContain(PRIVATE_NAME);

    helper.disconnect('full');
    await helper.waitForPhase('full', 'disconnected', 10_000);
    expect(nameservers()).toEqual([LAN]);
    expect(inRoot(['resolvconf', '-i'], false).stdout).not.toContain('causeway');
    expect(await resolve(PRIVATE_NAME)).toBeNull();
  });

  it('puts the tunnel resolver first next to the LAN one for split DNS', async () => {
    helper.connect('split', lab.engineConfig(splitTunnel));
    await helper.waitForPhase('split', 'connected', 20_000);
    expect(nameservers()).toEqual(['nameserver 10.8.2.1', LAN]);
    expect(await resolve(PRIVATE_NAME)).toBe(PRIVATE_IP);
    helper.disconnect('split');
    await helper.waitForPhase('split', 'disconnected', 10_000);
    expect(nameservers()).toEqual([LAN]);
  });
});
