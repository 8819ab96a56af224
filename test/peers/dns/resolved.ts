// A real systemd-resolved for the DNS tests, without installing it on the machine (its
// package's postinst would take over the host's /etc/resolv.conf): Debian's package is
// unpacked into .cache/ (debian-package.ts), and the daemon runs inside a lab network namespace,
// in a private mount namespace (its own /run, a passwd entry for its user), on a private
// D-Bus system bus. Processes that should talk to it get DBUS_SYSTEM_BUS_ADDRESS.
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabProcess, run, sleep } from '../lab/index.js';
import { unpackedDebianPackage } from './debian-package.js';

// resolved drops to the user "systemd-resolve"; inside its mount namespace that name maps to
// nobody's uid, which the (host-side) bus daemon also knows.
const RESOLVE_UID = 65534;

/** Debian's systemd-resolved, the same version as the installed systemd (they share a library). */
async function unpackedResolved(): Promise<string> {
  const systemd = (await run('dpkg-query', ['-W', '-f=${Version}', 'systemd'])).stdout.trim();
  return unpackedDebianPackage('systemd-resolved', 'lib/systemd/systemd-resolved', systemd);
}

const busConfig = (socket: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
`;

// Inside its own mount namespace: a fresh /run for its runtime files and drop-in config, and
// a passwd/group with its service user. No fallback servers, no multicast: it may only ever
// talk to the servers the test configures.
const resolvedScript = `set -e
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/systemd/resolve /run/systemd/resolved.conf.d
chown ${RESOLVE_UID}:${RESOLVE_UID} /run/systemd/resolve
printf '[Resolve]\\nFallbackDNS=\\nLLMNR=no\\nMulticastDNS=no\\nDNSSEC=no\\n' > /run/systemd/resolved.conf.d/test.conf
mount --bind "$WORK/passwd" /etc/passwd
mount --bind "$WORK/group" /etc/group
exec "$RESOLVED"
`;

export class PrivateResolved {
  private constructor(
    private readonly work: string,
    private readonly bus: LabProcess,
    private readonly daemon: LabProcess,
    /** The value of DBUS_SYSTEM_BUS_ADDRESS for clients of this bus. */
    readonly busAddress: string,
    private readonly resolvectlPath: string,
  ) {}

  /** Starts the bus and resolved in network namespace `netns`; always pair with `stop()`. */
  static async start(netns: string): Promise<PrivateResolved> {
    const pkg = await unpackedResolved();
    const work = mkdtempSync(join(tmpdir(), 'causeway-resolved-'));
    // resolved drops to its own user before it connects to the bus socket in here.
    chmodSync(work, 0o755);
    const socket = join(work, 'system_bus_socket');
    writeFileSync(join(work, 'bus.conf'), busConfig(socket));
    writeFileSync(join(work, 'passwd'), `${readFileSync('/etc/passwd', 'utf8')}systemd-resolve:x:${RESOLVE_UID}:${RESOLVE_UID}::/:/usr/sbin/nologin\n`);
    writeFileSync(join(work, 'group'), `${readFileSync('/etc/group', 'utf8')}systemd-resolve:x:${RESOLVE_UID}:\n`);
    const busAddress = `unix:path=${socket}`;

    const bus = new LabProcess(
      spawn('dbus-daemon', ['--config-file', join(work, 'bus.conf'), '--nofork', '--nopidfile', '--print-address'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      'dbus-daemon',
    );
    let daemon: LabProcess | null = null;
    try {
      await bus.waitForLog(socket, 10_000);
      daemon = new LabProcess(
        spawn('ip', ['netns', 'exec', netns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', resolvedScript], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
            WORK: work,
            RESOLVED: join(pkg, 'lib/systemd/systemd-resolved'),
            DBUS_SYSTEM_BUS_ADDRESS: busAddress,
            SYSTEMD_LOG_LEVEL: 'debug',
          },
        }),
        'systemd-resolved',
      );
      const resolved = new PrivateResolved(work, bus, daemon, busAddress, join(pkg, 'usr/bin/resolvectl'));
      await resolved.waitForBusName();
      return resolved;
    } catch (e) {
      await daemon?.stop();
      await bus.stop();
      rmSync(work, { recursive: true, force: true });
      throw e;
    }
  }

  private async waitForBusName(): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await run('busctl', [`--address=${this.busAddress}`, 'list', '--no-pager'], { check: false });
      if (r.stdout.includes('org.freedesktop.resolve1')) return;
      if (!this.daemon.running || Date.now() > deadline) {
        throw new Error(`systemd-resolved did not appear on the private bus:\n${this.daemon.log.slice(-3000)}`);
      }
      await sleep(100);
    }
  }

  /** `resolvectl <args>` against this resolved (e.g. `status cw0`). */
  async resolvectl(netns: string, args: string[]): Promise<string> {
    const r = await run(
      'ip',
      ['netns', 'exec', netns, 'env', `DBUS_SYSTEM_BUS_ADDRESS=${this.busAddress}`, this.resolvectlPath, '--no-pager', ...args],
      { check: false },
    );
    return `${r.stdout}${r.stderr}`;
  }

  /** The daemon's own log (debug level), for failure messages. */
  get log(): string {
    return this.daemon.log;
  }

  async stop(): Promise<void> {
    await this.daemon.stop();
    await this.bus.stop();
    rmSync(this.work, { recursive: true, force: true });
  }
}
