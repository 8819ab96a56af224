// Pushed DNS through resolvconf: Debian's openresolv package, unpacked (not installed) into a
// throwaway root — a private mount namespace with overlays on /usr and /etc — where the helper
// runs and finds it as /usr/sbin/resolvconf, as on a system that has it installed. The LAN's
// resolver is registered with resolvconf first, as dhclient or NetworkManager would.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from '../../app/helper-protocol/codec.js';
import type { ClientMessage, EngineConfig, HelperMessage } from '../../app/helper-protocol/messages.js';
import { PROTOCOL_VERSION } from '../../app/helper-protocol/messages.js';
import { parseHelperMessage } from '../../app/helper-protocol/validate.js';
import { DnsServer } from '../peers/dns/index.js';
import { unpackedDebianPackage } from '../peers/dns/debian-package.js';
import { helperBinary, Lab, LabProcess, run, sleep, type LabServer } from '../peers/lab/index.js';

const PRIVATE_NAME = 'intranet.corp.example';
const PRIVATE_IP = '10.77.0.7';
const LAN = 'nameserver 10.99.0.1';

/** causeway-helper --stdio started by `argv`, spoken to with the app's codec and validator. */
class StdioHelper {
  readonly messages: HelperMessage[] = [];
  stderr = '';
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(argv: string[]) {
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const decoder = new FrameDecoder();
    this.child.stdout!.on('data', (d: Buffer) => {
      for (const v of decoder.push(d)) this.messages.push(parseHelperMessage(v));
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', resolve));
  }

  send(m: ClientMessage): void {
    this.child.stdin!.write(encodeFrame(m));
  }

  async waitFor(match: (m: HelperMessage) => boolean, timeoutMs = 20_000): Promise<HelperMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(this.messages).slice(0, 1500)}\n${this.stderr}`);
      await sleep(50);
    }
  }

  async phase(session: string, phase: string): Promise<void> {
    await this.waitFor((m) => m.type === 'state' && m.session === session && (m.phase === phase || m.phase === 'failed'));
    const last = this.messages.filter((m) => m.type === 'state' && m.session === session).pop();
    if (last?.type === 'state' && last.phase !== phase) throw new Error(`session ${session} ${last.phase}: ${last.error?.message}`);
  }

  async connect(session: string, config: EngineConfig): Promise<void> {
    this.send({ type: 'connect', session, config });
    await this.phase(session, 'connected');
  }

  async disconnect(session: string): Promise<void> {
    this.send({ type: 'disconnect', session });
    await this.phase(session, 'disconnected');
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

describe('DNS through resolvconf (openresolv)', () => {
  let lab: Lab;
  let fullTunnel: LabServer;
  let splitTunnel: LabServer;
  const dnsServers: DnsServer[] = [];
  let scratch: string;
  let holder: LabProcess;
  let helper: StdioHelper;

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
    helper = new StdioHelper(['nsenter', '-t', String(holder.pid), '-m', 'ip', 'netns', 'exec', lab.netns.client, helperBinary(), '--stdio']);
    helper.send({ type: 'hello', version: PROTOCOL_VERSION, client: 'dns-resolvconf-test' });
    await helper.waitFor((m) => m.type === 'hello');
  }, 180_000);

  afterAll(async () => {
    await helper?.close();
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
    await helper.connect('full', lab.engineConfig(fullTunnel));
    expect(helper.stderr).toMatch(/DNS for (\S+) set through resolvconf/);
    const device = /DNS for (\S+) set through/.exec(helper.stderr)![1]!;
    expect(inRoot(['resolvconf', '-i'], false).stdout.split(/\s+/)).toContain(`vpn.causeway-${device}`);
    expect(nameservers()).toEqual(['nameserver 10.8.1.1']);
    expect(resolvConf()).toMatch(/^search corp\.example$/m);
    expect(await resolve(PRIVATE_NAME)).toBe(PRIVATE_IP);
    expect(dnsServers[0]!.queries()).toContain(PRIVATE_NAME);

    await helper.disconnect('full');
    expect(nameservers()).toEqual([LAN]);
    expect(inRoot(['resolvconf', '-i'], false).stdout).not.toContain('causeway');
    expect(await resolve(PRIVATE_NAME)).toBeNull();
  });

  it('puts the tunnel resolver first next to the LAN one for split DNS', async () => {
    await helper.connect('split', lab.engineConfig(splitTunnel));
    expect(nameservers()).toEqual(['nameserver 10.8.2.1', LAN]);
    expect(await resolve(PRIVATE_NAME)).toBe(PRIVATE_IP);
    await helper.disconnect('split');
    expect(nameservers()).toEqual([LAN]);
  });
});
