// What the benchmark reads about a process or device while iperf3 runs: CPU time, memory,
// syscall counts (perf's raw_syscalls tracepoint) and the TUN device's packet counters.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { run } from '../test/peers/lab/exec.js';

const CLK_TCK = 100; // USER_HZ on Linux

/** utime + stime of a whole process (all threads), seconds. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/**
 * Counts the syscalls of `pid` (all its threads, also ones started later) until `stop()`.
 * Resolves once perf has attached and reported its first interval: a SIGINT before perf sets
 * up its handlers would kill it silently, count and all.
 */
export async function countSyscalls(pid: number): Promise<{ stop(): Promise<number> }> {
  const perf = spawn('perf', ['stat', '-x', ',', '-I', '100', '-e', 'raw_syscalls:sys_enter', '-p', String(pid)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  let attached!: () => void;
  const ready = new Promise<void>((resolve) => (attached = resolve));
  perf.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.includes('raw_syscalls:sys_enter')) attached();
  });
  const done = new Promise<void>((resolve, reject) => {
    perf.on('error', reject);
    perf.on('close', () => resolve());
  });
  const failed = (why: string) => new Error(`perf stat ${why} for pid ${pid}:\n${err}`);
  await Promise.race([ready, done.then(() => Promise.reject(failed('exited before counting'))), sleep(10_000).then(() => Promise.reject(failed('did not attach in 10 s')))]);
  return {
    async stop() {
      perf.kill('SIGINT');
      await done;
      // One line per 100 ms interval ("<time>,<count>,,raw_syscalls:sys_enter,…"), the last one
      // partial; "<not counted>" is an interval in which the process made no syscall.
      const counts = err
        .split('\n')
        .filter((l) => l.includes('raw_syscalls:sys_enter'))
        .map((l) => l.split(',')[1])
        .map((c) => (c === '<not counted>' ? 0 : Number(c)));
      if (!counts.length || counts.some((n) => !Number.isFinite(n))) throw failed('gave no syscall count');
      return counts.reduce((a, b) => a + b, 0);
    },
  };
}

export interface LinkCounters {
  txBytes: number;
  txPackets: number;
  rxBytes: number;
  rxPackets: number;
}

/**
 * The packet counters of a device in a namespace. A TUN device counts one packet per read or
 * write of the client, however large: bytes per packet above the MTU mean the client moved
 * offloaded (TSO/GRO) super-segments through the device.
 */
export async function linkCounters(netns: string, dev: string): Promise<LinkCounters> {
  const r = await run('ip', ['-n', netns, '-s', '-j', 'link', 'show', 'dev', dev]);
  const [info] = JSON.parse(r.stdout) as { stats64: { tx: { bytes: number; packets: number }; rx: { bytes: number; packets: number } } }[];
  if (!info) throw new Error(`no counters for ${dev} in ${netns}`);
  const { tx, rx } = info.stats64;
  return { txBytes: tx.bytes, txPackets: tx.packets, rxBytes: rx.bytes, rxPackets: rx.packets };
}

/** The one device in `netns` that is neither loopback nor one of `known` (the tunnel's). */
export async function tunnelDevice(netns: string, known: string[]): Promise<{ name: string; mtu: number }> {
  const r = await run('ip', ['-n', netns, '-j', 'link', 'show']);
  const links = (JSON.parse(r.stdout) as { ifname: string; mtu: number }[]).filter((l) => l.ifname !== 'lo' && !known.includes(l.ifname));
  if (links.length !== 1) throw new Error(`expected one tunnel device in ${netns}, found ${links.map((l) => l.ifname).join(', ') || 'none'}`);
  return { name: links[0]!.ifname, mtu: links[0]!.mtu };
}
