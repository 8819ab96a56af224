// Pushed DNS through resolvconf, both flavours Debian ships: openresolv and Debian's own
// resolvconf. Each package is unpacked (not installed) into a throwaway root — a private mount
// namespace with overlays on /usr and /etc — where the helper runs and finds it as
// /usr/sbin/resolvconf, as on a system that has it installed. The LAN's resolver is registered
// with resolvconf first, as dhclient or NetworkManager would.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRIVATE_IP, PRIVATE_NAME, privateDnsOn, type DnsServer } from '../peers/dns/index.js';
import { unpackedDebianPackage } from '../peers/dns/debian-package.js';
import { HelperClient, Lab, LabProcess, run, type LabServer } from '../peers/lab/index.js';

const LAN = 'nameserver 10.99.0.1';

const overlays = `set -e
for d in usr etc; do
  mkdir -p "$S/$d.upper" "$S/$d.work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$S/$d.upper,workdir=$S/$d.work" "/$d"
done
`;

interface Flavour {
  name: string;
  pkg: string;
  /** Shell run as root in the fresh namespace, after the overlays; $PKG is the unpacked package. */
  setup: string;
  /** Debian's resolvconf keeps its state in /run/resolvconf, which gets a private tmpfs. */
  privateRunDir: boolean;
  record: (device: string) => string;
  /** The backend that carries a default-route tunnel's DNS, as the helper logs it. */
  fullTunnelBackend: string;
}

const flavours: Flavour[] = [
  {
    name: 'openresolv',
    pkg: 'openresolv',
    setup: `install -m 0755 "$PKG/sbin/resolvconf" /usr/sbin/resolvconf
cp -r "$PKG/lib/resolvconf" /usr/lib/resolvconf
printf 'resolv_conf=/etc/resolv.conf\\nstate_dir=/etc/resolvconf-state\\n' > /etc/resolvconf.conf
echo '${LAN}' | resolvconf -a lan0.dhcp
`,
    privateRunDir: false,
    record: (device) => `vpn.causeway-${device}`,
    // openresolv's exclusive records (-x) keep the LAN resolver out.
    fullTunnelBackend: 'resolvconf',
  },
  {
    name: "Debian's resolvconf",
    pkg: 'resolvconf',
    setup: `mount -t tmpfs tmpfs /run/resolvconf
install -m 0755 "$PKG/sbin/resolvconf" /usr/sbin/resolvconf
cp -r "$PKG/lib/resolvconf" /usr/lib/resolvconf
# into the folder, which may exist already (squid's package ships /etc/resolvconf/update-libc.d)
mkdir -p /etc/resolvconf && cp -r "$PKG/etc/resolvconf/." /etc/resolvconf/
mkdir -p /run/resolvconf/interface
rm -f /etc/resolv.conf
ln -s ../run/resolvconf/resolv.conf /etc/resolv.conf
resolvconf --enable-updates
echo '${LAN}' | resolvconf -a eth0.dhclient
`,
    privateRunDir: true,
    record: (device) => `tun-causeway-${device}`,
    // It cannot leave the LAN resolver out, so the helper writes the file itself.
    fullTunnelBackend: '/etc/resolv.conf',
  },
];

describe.each(flavours)('DNS through resolvconf ($name)', (flavour) => {
  let lab: Lab;
  let fullTunnel: LabServer;
  let splitTunnel: LabServer;
  const dnsServers: DnsServer[] = [];
  let scratch: string;
  let holder: LabProcess;
  let helper: HelperClient;

  /** Runs `argv` in the throwaway root. */
  const inRoot = (argv: string[]) => spawnSync('nsenter', ['-t', String(holder.pid), '-m', ...argv], { encoding: 'utf8', timeout: 30_000 });
  const resolvConf = () => inRoot(['cat', '/etc/resolv.conf']).stdout;
  const records = () => inRoot(['resolvconf', '-i']).stdout.split(/\s+/).filter(Boolean);
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
    const pkg = await unpackedDebianPackage(flavour.pkg, 'sbin/resolvconf');
    lab = await Lab.create();
    fullTunnel = await lab.startServer({
      proto: 'udp',
      push: ['redirect-gateway def1', 'dhcp-option DNS 10.8.1.1', 'dhcp-option DOMAIN corp.example'],
    });
    splitTunnel = await lab.startServer({ proto: 'udp', push: ['dhcp-option DNS 10.8.2.1', 'dhcp-option DOMAIN-ROUTE corp.example'] });
    expect([fullTunnel.info.tunnelAddress, splitTunnel.info.tunnelAddress]).toEqual(['10.8.1.1', '10.8.2.1']);
    for (const s of [fullTunnel, splitTunnel]) {
      dnsServers.push(await privateDnsOn(lab, s));
    }

    // The throwaway root, made after the lab so it sees the lab's namespace handles.
    scratch = mkdtempSync(join(tmpdir(), 'causeway-resolvconf-'));
    if (flavour.privateRunDir) mkdirSync('/run/resolvconf', { recursive: true }); // the tmpfs's mount point
    holder = new LabProcess(
      spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${overlays}${flavour.setup}echo ready\nexec sleep 3600\n`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', S: scratch, PKG: pkg },
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
    if (flavour.privateRunDir) {
      try {
        rmdirSync('/run/resolvconf'); // only if empty: never a real resolvconf's directory
      } catch {
        // in use by a resolvconf installed on this machine: leave it
      }
    }
  });

  it('starts from the LAN resolver that resolvconf manages', async () => {
    expect(nameservers()).toEqual([LAN]);
    expect(await resolve(PRIVATE_NAME)).toBeNull();
  });

  it('makes the tunnel the only resolver when it takes the default route, and gives the LAN back after', async () => {
    helper.connect('full', lab.engineConfig(fullTunnel));
    await helper.waitForPhase('full', 'connected', 20_000);
    const device = helper.pushed('full')!.device;
    await expect.poll(() => helper.stderr, { timeout: 5000 }).toContain(`DNS for ${device} set through ${flavour.fullTunnelBackend}`);
    expect(nameservers()).toEqual(['nameserver 10.8.1.1']);
    expect(resolvConf()).toMatch(/^search corp\.example$/m);
    expect(await resolve(PRIVATE_NAME)).toBe(PRIVATE_IP);
    expect(dnsServers[0]!.queries()).toContain(PRIVATE_NAME);

    helper.disconnect('full');
    await helper.waitForPhase('full', 'disconnected', 10_000);
    expect(nameservers()).toEqual([LAN]);
    expect(records().filter((r) => r.includes('causeway'))).toEqual([]);
    expect(await resolve(PRIVATE_NAME)).toBeNull();
  });

  it('puts the tunnel resolver first next to the LAN one for split DNS', async () => {
    helper.connect('split', lab.engineConfig(splitTunnel));
    await helper.waitForPhase('split', 'connected', 20_000);
    const device = helper.pushed('split')!.device;
    await expect.poll(() => helper.stderr, { timeout: 5000 }).toContain(`DNS for ${device} set through resolvconf`);
    expect(records()).toContain(flavour.record(device));
    expect(nameservers()).toEqual(['nameserver 10.8.2.1', LAN]);
    expect(await resolve(PRIVATE_NAME)).toBe(PRIVATE_IP);
    helper.disconnect('split');
    await helper.waitForPhase('split', 'disconnected', 10_000);
    expect(nameservers()).toEqual([LAN]);
    expect(records().filter((r) => r.includes('causeway'))).toEqual([]);
  });

  it("deletes a killed helper's record as soon as the next helper starts", async () => {
    helper.connect('crash', lab.engineConfig(splitTunnel));
    await helper.waitForPhase('crash', 'connected', 20_000);
    const record = flavour.record(helper.pushed('crash')!.device);
    helper.kill('SIGKILL');
    await helper.waitForExit();
    expect(records()).toContain(record); // resolvconf knows nothing of the crash
    helper = await HelperClient.start({ prefix: ['nsenter', '-t', String(holder.pid), '-m'], netns: lab.netns.client });
    expect(records()).not.toContain(record);
    expect(nameservers()).toEqual([LAN]);
    await expect.poll(() => helper.stderr, { timeout: 5000 }).toMatch(/restored DNS of 1 tunnel/);
  });
});
