// A booted Debian root under systemd-nspawn, for installing the packages on a real systemd.
//
// The cached root (scripts/debian-root.sh) is never written: the container boots an overlay whose
// upper layer lives in a temporary folder. `--register=no --keep-unit` because the test machines'
// PID 1 is not systemd and there is no system bus to register with; commands enter the
// container with nsenter (machinectl needs machined). The container joins a network namespace
// of the caller's choosing (the lab's client side) and gets /dev/net/tun bound in.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabProcess, sleep } from '../../peers/lab/index.js';

export interface ContainerOptions {
  /** The read-only Debian root to boot (the lower layer). */
  root: string;
  /** /run/netns/<name> to join. */
  netns: string;
  /** Host folders bound read-only into the container: host path -> container path. */
  bindReadOnly?: Record<string, string>;
}

export interface RunAs {
  /** A user name inside the container; root when absent. */
  user?: string;
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
}

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Every descendant pid of `pid` (from /proc/<pid>/task/<tid>/children). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(' ').filter(Boolean).map(Number)) out.push(c, ...descendants(c));
  }
  return out;
}

/** The pid (in our namespace) of the process that is PID 1 in its own PID namespace, below `pid`. */
function containerInit(pid: number): number | null {
  for (const d of descendants(pid)) {
    try {
      const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]?.trim().split(/\s+/);
      if (nspid && nspid.length > 1 && nspid[nspid.length - 1] === '1') return d;
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

export class Container {
  private constructor(
    readonly dir: string,
    /** The merged root, as the container sees it, from the host. */
    readonly rootfs: string,
    private readonly nspawn: LabProcess,
    /** The container's systemd, as a host pid. */
    readonly initPid: number,
  ) {}

  /** Boots the container and waits until systemd reports the boot finished. */
  static async boot(options: ContainerOptions): Promise<Container> {
    const dir = mkdtempSync(join(tmpdir(), 'causeway-nspawn-'));
    const rootfs = join(dir, 'root');
    for (const d of ['upper', 'work', 'root']) mkdirSync(join(dir, d));
    const mount = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${options.root},upperdir=${dir}/upper,workdir=${dir}/work`, rootfs], {
      encoding: 'utf8',
    });
    if (mount.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`could not mount the container's overlay: ${mount.stderr}`);
    }
    const binds = Object.entries(options.bindReadOnly ?? {}).map(([host, inside]) => `--bind-ro=${host}:${inside}`);
    const args = [
      '--register=no',
      '--keep-unit',
      '--quiet',
      `--machine=cw-pkg-${process.pid}`,
      `--directory=${rootfs}`,
      `--network-namespace-path=/run/netns/${options.netns}`,
      '--bind=/dev/net/tun',
      // nspawn keeps CAP_NET_ADMIN only with its own private network options, not for a joined
      // namespace; a real machine's services have it, and this network is the container's alone.
      '--capability=CAP_NET_ADMIN',
      ...binds,
      // The test owns the container's resolv.conf: the DNS backend under test writes it.
      '--resolv-conf=off',
      '--timezone=off',
      '--link-journal=no',
      '--console=pipe',
      '--boot',
    ];
    const nspawn = new LabProcess(spawn('systemd-nspawn', args, { stdio: ['ignore', 'pipe', 'pipe'] }), 'systemd-nspawn');
    let initPid: number | null = null;
    const deadline = Date.now() + 30_000;
    while (initPid === null) {
      if (!nspawn.running || Date.now() > deadline) {
        await nspawn.stop();
        spawnSync('umount', [rootfs]);
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`the container did not start:\n${nspawn.log}`);
      }
      initPid = containerInit(nspawn.pid);
      if (initPid === null) await sleep(100);
    }
    const container = new Container(dir, rootfs, nspawn, initPid);
    // 'running' or 'degraded' (some unit failed): either way the boot is over. 'offline' until
    // systemd's private socket is up (--wait only waits once it can ask).
    let state = '';
    while (!['running', 'degraded'].includes(state)) {
      if (Date.now() > deadline + 60_000) {
        await container.close();
        throw new Error(`the container's systemd did not finish booting (${state}):\n${nspawn.log}`);
      }
      state = container.run(['systemctl', 'is-system-running', '--wait'], { timeoutMs: 60_000 }).stdout.trim();
      if (state === 'offline') await sleep(200);
    }
    return container;
  }

  /** The boot console (systemd's status lines). */
  get console(): string {
    return this.nspawn.log;
  }

  /** argv that runs `argv` inside the container, as `as.user` when given. */
  command(argv: string[], as: RunAs = {}): string[] {
    const user = as.user ? ['setpriv', '--reuid', as.user, '--regid', as.user, '--init-groups'] : [];
    const home = as.user ? { HOME: `/home/${as.user}`, USER: as.user, LOGNAME: as.user } : { HOME: '/root' };
    const env = Object.entries({ PATH, LANG: 'C.UTF-8', ...home, ...as.env }).map(([k, v]) => `${k}=${v}`);
    return ['nsenter', '-t', String(this.initPid), '-a', ...user, 'env', '-i', ...env, ...argv];
  }

  /** Runs a command inside the container and returns what it did. */
  run(argv: string[], as: RunAs = {}): SpawnSyncReturns<string> {
    const [cmd, ...args] = this.command(argv, as);
    return spawnSync(cmd!, args, { encoding: 'utf8', input: as.input ?? '', timeout: as.timeoutMs ?? 120_000 });
  }

  /** Like run(), but throws with the output unless the command succeeds; returns stdout. */
  check(argv: string[], as: RunAs = {}): string {
    const r = this.run(argv, as);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** Powers the container off (SIGTERM to nspawn: a clean shutdown), then removes the overlay. */
  async close(): Promise<void> {
    await this.nspawn.stop(30_000);
    spawnSync('umount', [this.rootfs]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
