// The benchmark: our helper and a stock openvpn client, one after the other, against the same
// stock openvpn server and cipher in the namespace lab. It measures connect time, iperf3
// throughput both ways, the client's CPU time per GiB moved and its memory, and prints a
// table with the ratios (causeway / openvpn). Results also go to test-results/bench.json.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { HelperClient, Lab, LabProcess, type LabServer } from '../test/peers/lab/index.js';

const CIPHER = (process.env.BENCH_CIPHER ?? 'AES-256-GCM') as 'AES-256-GCM' | 'AES-128-GCM' | 'CHACHA20-POLY1305';
const PROTO = (process.env.BENCH_PROTO ?? 'udp') as 'udp' | 'tcp';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECT_RUNS = Number(process.env.BENCH_CONNECT_RUNS ?? 3);
const CLK_TCK = 100; // USER_HZ on Linux

interface Direction {
  mbits: number;
  bytes: number;
  cpuSec: number;
  cpuSecPerGiB: number;
}

interface ClientResult {
  connectMs: number;
  up: Direction;
  down: Direction;
  rssMiB: number;
  peakRssMiB: number;
}

/** utime + stime of a whole process (all threads), seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One iperf3 run through the tunnel, with the client process's CPU time around it. */
async function iperf(lab: Lab, target: string, reverse: boolean, clientPid: number): Promise<Direction> {
  const before = cpuSeconds(clientPid);
  const r = await lab.inClient('iperf3', ['-c', target, '-t', String(SECONDS), '-J', ...(reverse ? ['-R'] : [])], {
    timeoutMs: (SECONDS + 30) * 1000,
  });
  const cpuSec = cpuSeconds(clientPid) - before;
  const report = JSON.parse(r.stdout) as { error?: string; end?: { sum_received?: { bytes: number; bits_per_second: number } } };
  const received = report.end?.sum_received;
  if (!received) throw new Error(`iperf3 to ${target}${reverse ? ' (reverse)' : ''} failed: ${report.error ?? r.stderr}`);
  const bytes = received.bytes;
  return { mbits: received.bits_per_second / 1e6, bytes, cpuSec, cpuSecPerGiB: cpuSec / (bytes / 2 ** 30) };
}

async function measureCauseway(lab: Lab, server: LabServer): Promise<ClientResult> {
  const config = lab.engineConfig(server, { dataCiphers: [CIPHER] });
  const connectTimes: number[] = [];
  for (let i = 0; i < CONNECT_RUNS; i++) {
    const t0 = performance.now();
    const helper = await HelperClient.start({ netns: lab.netns.client });
    helper.connect('bench', config);
    await helper.waitForPhase('bench', 'connected', 30_000);
    connectTimes.push(performance.now() - t0);
    if (i < CONNECT_RUNS - 1) await helper.close();
    else return await measureTunnel(lab, server, helper.pid, median(connectTimes), () => helper.close());
  }
  throw new Error('unreachable');
}

async function measureOpenvpn(lab: Lab, server: LabServer): Promise<ClientResult> {
  const connectTimes: number[] = [];
  for (let i = 0; i < CONNECT_RUNS; i++) {
    const t0 = performance.now();
    const client = await lab.startStockClient(server, CIPHER);
    connectTimes.push(performance.now() - t0);
    if (i < CONNECT_RUNS - 1) await client.stop();
    else return await measureTunnel(lab, server, client.pid, median(connectTimes), () => client.stop());
  }
  throw new Error('unreachable');
}

async function measureTunnel(lab: Lab, server: LabServer, pid: number, connectMs: number, stop: () => Promise<unknown>): Promise<ClientResult> {
  try {
    const up = await iperf(lab, server.info.tunnelAddress, false, pid);
    const down = await iperf(lab, server.info.tunnelAddress, true, pid);
    const mem = memoryMiB(pid);
    return { connectMs, up, down, rssMiB: mem.rss, peakRssMiB: mem.peak };
  } finally {
    await stop();
  }
}

function table(ours: ClientResult, stock: ClientResult): string {
  const rows: [string, number, number, 'higher' | 'lower'][] = [
    ['connect time, ms', ours.connectMs, stock.connectMs, 'lower'],
    ['throughput client->server, Mbit/s', ours.up.mbits, stock.up.mbits, 'higher'],
    ['throughput server->client, Mbit/s', ours.down.mbits, stock.down.mbits, 'higher'],
    ['client CPU s per GiB, client->server', ours.up.cpuSecPerGiB, stock.up.cpuSecPerGiB, 'lower'],
    ['client CPU s per GiB, server->client', ours.down.cpuSecPerGiB, stock.down.cpuSecPerGiB, 'lower'],
    ['client RSS after transfer, MiB', ours.rssMiB, stock.rssMiB, 'lower'],
    ['client peak RSS, MiB', ours.peakRssMiB, stock.peakRssMiB, 'lower'],
  ];
  const lines = [
    `${'metric'.padEnd(38)} ${'causeway'.padStart(10)} ${'openvpn'.padStart(10)} ${'ratio'.padStart(7)}  better`,
  ];
  for (const [name, a, b, better] of rows) {
    lines.push(`${name.padEnd(38)} ${a.toFixed(1).padStart(10)} ${b.toFixed(1).padStart(10)} ${(a / b).toFixed(2).padStart(7)}  ${better}`);
  }
  return lines.join('\n');
}

const lab = await Lab.create();
const serverOptions = { proto: PROTO, tlsWrap: 'tls-crypt', dataCiphers: [CIPHER] } as const;

/**
 * Measures one client against a freshly started server with the same options, and its own iperf3
 * server: a stock openvpn TCP server that has just served one client can break the next one's
 * iperf3 control connection, so no client inherits the other's server state.
 */
async function againstFreshServer(measure: (lab: Lab, server: LabServer) => Promise<ClientResult>): Promise<ClientResult> {
  const server = await lab.startServer({ ...serverOptions, dataCiphers: [...serverOptions.dataCiphers] });
  const iperfServer = new LabProcess(spawn('ip', ['netns', 'exec', lab.netns.server, 'iperf3', '-s', '--forceflush'], { stdio: ['ignore', 'pipe', 'pipe'] }), 'iperf3');
  try {
    await iperfServer.waitForLog('Server listening', 10_000);
    return await measure(lab, server);
  } finally {
    await iperfServer.stop();
    await server.stop();
  }
}

try {
  console.log(`bench: ${PROTO}, ${CIPHER}, tls-crypt, iperf3 ${SECONDS} s each way, connect time median of ${CONNECT_RUNS}`);
  const ours = await againstFreshServer(measureCauseway);
  const stock = await againstFreshServer(measureOpenvpn);
  console.log(table(ours, stock));
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/bench.json', JSON.stringify({ proto: PROTO, cipher: CIPHER, seconds: SECONDS, causeway: ours, openvpn: stock }, null, 2));
} finally {
  await lab.close();
}
