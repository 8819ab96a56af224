// The benchmark: our helper and a stock openvpn client, one after the other, each against a
// fresh stock openvpn server with the same cipher in the namespace lab, over UDP and TCP; and
// wireguard-go at both ends of the same veth as the best userspace tunnel here. Per direction it
// measures iperf3 throughput, the client's CPU time and syscalls per GiB moved, the bytes per
// packet through the client's TUN device (above the MTU = offloads active), and the server's CPU
// load (a single-threaded openvpn server at a full core caps throughput, so then the client's
// CPU per GiB is the figure of merit). Prints a table of ratios; results go to
// test-results/bench.json.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { HelperClient, Lab, LabProcess, type LabServer } from '../test/peers/lab/index.js';
import { countSyscalls, cpuSeconds, linkCounters, memoryMiB, tunnelDevice } from './probes.js';
import { startWireguard, WG_SERVER_ADDRESS } from './wireguard.js';

const CIPHER = (process.env.BENCH_CIPHER ?? 'AES-256-GCM') as 'AES-256-GCM' | 'AES-128-GCM' | 'CHACHA20-POLY1305';
const PROTOS = (process.env.BENCH_PROTO ?? 'udp,tcp').split(',') as ('udp' | 'tcp')[];
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECT_RUNS = Number(process.env.BENCH_CONNECT_RUNS ?? 3);
const WITH_WIREGUARD = process.env.BENCH_WIREGUARD !== '0';
/** BENCH_STOCK=0 leaves the stock client out: quicker A/B runs of our own client, no ratios. */
const WITH_STOCK = process.env.BENCH_STOCK !== '0';
/** Built by bench/install-bench-deps.sh; run.mjs passes its path. */
const wireguardBinary = () => {
  const bin = process.env.CAUSEWAY_WIREGUARD_GO;
  if (!bin) throw new Error('CAUSEWAY_WIREGUARD_GO is not set (run the bench with `npm run bench`)');
  return bin;
};
/** A server process this close to its core budget is what limits the throughput. */
const SERVER_BOUND_SHARE = 0.9;

interface Direction {
  mbits: number;
  bytes: number;
  cpuSec: number;
  cpuSecPerGiB: number;
  syscallsPerGiB: number;
  /** Bytes per packet the client read from (up) or wrote to (down) its TUN device. */
  tunBytesPerPacket: number;
  /** tunBytesPerPacket above the device MTU: TSO (up) / GRO (down) super-segments. */
  offloads: boolean;
  /** TCP segments the sending iperf3 retransmitted (loss or reordering inside the tunnel). */
  retransmits: number;
  /** Server CPU seconds per wall second during the transfer. */
  serverCores: number;
  serverBound: boolean;
}

interface ClientResult {
  connectMs: number | null;
  tunMtu: number;
  up: Direction;
  down: Direction;
  rssMiB: number;
  peakRssMiB: number;
}

/** A running tunnel to measure: its client and server processes and the address to reach. */
interface Tunnel {
  clientPid: number;
  serverPid: number;
  /** Cores the server can use (stock openvpn: one thread). */
  serverCoreBudget: number;
  target: string;
  connectMs: number | null;
  stop(): Promise<unknown>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One iperf3 run through the tunnel, with the client's and server's costs around it. */
async function iperf(lab: Lab, t: Tunnel, dev: { name: string; mtu: number }, reverse: boolean): Promise<Direction> {
  const counters0 = await linkCounters(lab.netns.client, dev.name);
  const syscalls = await countSyscalls(t.clientPid);
  const [client0, server0, wall0] = [cpuSeconds(t.clientPid), cpuSeconds(t.serverPid), performance.now()];
  const r = await lab.inClient('iperf3', ['-c', t.target, '-t', String(SECONDS), '-J', ...(reverse ? ['-R'] : [])], {
    timeoutMs: (SECONDS + 30) * 1000,
    check: false,
  });
  const [client1, server1, wall1] = [cpuSeconds(t.clientPid), cpuSeconds(t.serverPid), performance.now()];
  const syscallCount = syscalls.stop();
  syscallCount.catch(() => undefined); // awaited below, unless iperf3's failure comes first
  const counters1 = await linkCounters(lab.netns.client, dev.name);
  const report = JSON.parse(r.stdout || '{}') as {
    error?: string;
    end?: { sum_received?: { bytes: number; bits_per_second: number }; sum_sent?: { retransmits?: number } };
  };
  const received = report.end?.sum_received;
  // iperf3's own failure first: it is the cause of a count perf could not make.
  if (!received) throw new Error(`iperf3 to ${t.target}${reverse ? ' (reverse)' : ''} failed: ${report.error ?? r.stderr}`);
  const gib = received.bytes / 2 ** 30;
  const cpuSec = client1 - client0;
  const [bytes, packets] = reverse
    ? [counters1.rxBytes - counters0.rxBytes, counters1.rxPackets - counters0.rxPackets]
    : [counters1.txBytes - counters0.txBytes, counters1.txPackets - counters0.txPackets];
  const tunBytesPerPacket = packets > 0 ? bytes / packets : 0;
  const serverCores = (server1 - server0) / ((wall1 - wall0) / 1000);
  return {
    mbits: received.bits_per_second / 1e6,
    bytes: received.bytes,
    cpuSec,
    cpuSecPerGiB: cpuSec / gib,
    syscallsPerGiB: (await syscallCount) / gib,
    tunBytesPerPacket,
    offloads: tunBytesPerPacket > dev.mtu,
    retransmits: report.end?.sum_sent?.retransmits ?? 0,
    serverCores,
    serverBound: serverCores >= SERVER_BOUND_SHARE * t.serverCoreBudget,
  };
}

async function measureTunnel(lab: Lab, t: Tunnel): Promise<ClientResult> {
  try {
    const dev = await tunnelDevice(lab.netns.client, [lab.netns.clientDevice]);
    const up = await iperf(lab, t, dev, false);
    const down = await iperf(lab, t, dev, true);
    const mem = memoryMiB(t.clientPid);
    return { connectMs: t.connectMs, tunMtu: dev.mtu, up, down, rssMiB: mem.rss, peakRssMiB: mem.peak };
  } finally {
    await t.stop();
  }
}

/** Connects CONNECT_RUNS times (the median is the connect time) and keeps the last one up. */
async function connectRepeatedly<C extends { stop(): Promise<unknown> }>(start: () => Promise<C>): Promise<{ client: C; connectMs: number }> {
  const times: number[] = [];
  for (let i = 0; ; i++) {
    const t0 = performance.now();
    const client = await start();
    times.push(performance.now() - t0);
    if (i === CONNECT_RUNS - 1) return { client, connectMs: median(times) };
    await client.stop();
  }
}

async function measureCauseway(lab: Lab, server: LabServer): Promise<ClientResult> {
  const config = lab.engineConfig(server, { dataCiphers: [CIPHER] });
  const { client, connectMs } = await connectRepeatedly(async () => {
    const helper = await HelperClient.start({ netns: lab.netns.client });
    helper.connect('bench', config);
    await helper.waitForPhase('bench', 'connected', 30_000);
    return { helper, stop: () => helper.close() };
  });
  return measureTunnel(lab, { clientPid: client.helper.pid, serverPid: server.process.pid, serverCoreBudget: 1, target: server.info.tunnelAddress, connectMs, stop: client.stop });
}

async function measureOpenvpn(lab: Lab, server: LabServer): Promise<ClientResult> {
  const { client, connectMs } = await connectRepeatedly(() => lab.startStockClient(server, CIPHER));
  return measureTunnel(lab, { clientPid: client.pid, serverPid: server.process.pid, serverCoreBudget: 1, target: server.info.tunnelAddress, connectMs, stop: () => client.stop() });
}

async function measureWireguard(lab: Lab, bin: string): Promise<ClientResult> {
  const pair = await startWireguard(lab, bin);
  return measureTunnel(lab, { clientPid: pair.client.pid, serverPid: pair.server.pid, serverCoreBudget: cpus().length, target: WG_SERVER_ADDRESS, connectMs: null, stop: pair.stop });
}

/** An iperf3 server in the server namespace, for the duration of `fn`. */
async function withIperfServer<T>(lab: Lab, fn: () => Promise<T>): Promise<T> {
  const iperfServer = new LabProcess(spawn('ip', ['netns', 'exec', lab.netns.server, 'iperf3', '-s', '--forceflush'], { stdio: ['ignore', 'pipe', 'pipe'] }), 'iperf3');
  try {
    await iperfServer.waitForLog('Server listening', 10_000);
    return await fn();
  } finally {
    await iperfServer.stop();
  }
}

/**
 * Measures one openvpn-protocol client against a freshly started server with the same options,
 * and its own iperf3 server: a stock openvpn TCP server that has just served one client can
 * break the next one's iperf3 control connection, so no client inherits the other's state.
 */
async function againstFreshServer(lab: Lab, proto: 'udp' | 'tcp', measure: (lab: Lab, server: LabServer) => Promise<ClientResult>): Promise<ClientResult> {
  const server = await lab.startServer({ proto, tlsWrap: 'tls-crypt', dataCiphers: [CIPHER] });
  try {
    return await withIperfServer(lab, () => measure(lab, server));
  } finally {
    await server.stop();
  }
}

type Row = [string, (r: ClientResult) => number | null, 'higher' | 'lower'];
const ROWS: Row[] = [
  ['connect time, ms', (r) => r.connectMs, 'lower'],
  ['throughput client->server, Mbit/s', (r) => r.up.mbits, 'higher'],
  ['throughput server->client, Mbit/s', (r) => r.down.mbits, 'higher'],
  ['client CPU s/GiB, client->server', (r) => r.up.cpuSecPerGiB, 'lower'],
  ['client CPU s/GiB, server->client', (r) => r.down.cpuSecPerGiB, 'lower'],
  ['client syscalls/GiB (k), c->s', (r) => r.up.syscallsPerGiB / 1000, 'lower'],
  ['client syscalls/GiB (k), s->c', (r) => r.down.syscallsPerGiB / 1000, 'lower'],
  ['TUN bytes/packet, c->s', (r) => r.up.tunBytesPerPacket, 'higher'],
  ['TUN bytes/packet, s->c', (r) => r.down.tunBytesPerPacket, 'higher'],
  ['iperf3 retransmits, c->s', (r) => r.up.retransmits, 'lower'],
  ['iperf3 retransmits, s->c', (r) => r.down.retransmits, 'lower'],
  ['server CPU cores, c->s', (r) => r.up.serverCores, 'lower'],
  ['server CPU cores, s->c', (r) => r.down.serverCores, 'lower'],
  ['client RSS after transfer, MiB', (r) => r.rssMiB, 'lower'],
  ['client peak RSS, MiB', (r) => r.peakRssMiB, 'lower'],
];

const fmt = (v: number | null, width: number) => (v === null ? '-' : v.toFixed(1)).padStart(width);
const ratio = (a: number | null, b: number | null, width: number) => (a === null || b === null || b === 0 ? '-' : (a / b).toFixed(2)).padStart(width);

function table(proto: string, ours: ClientResult, stock: ClientResult | null, wg: ClientResult | null): string {
  const head = `${`[${proto}] metric`.padEnd(36)} ${'causeway'.padStart(9)} ${'openvpn'.padStart(9)} ${'wg-go'.padStart(9)} ${'/ovpn'.padStart(6)} ${'/wg'.padStart(6)}  better`;
  const lines = [head];
  for (const [name, get, better] of ROWS) {
    const [a, b, c] = [get(ours), stock ? get(stock) : null, wg ? get(wg) : null];
    lines.push(`${name.padEnd(36)} ${fmt(a, 9)} ${fmt(b, 9)} ${fmt(c, 9)} ${ratio(a, b, 6)} ${ratio(a, c, 6)}  ${better}`);
  }
  const flags = (r: ClientResult) => `offloads ${r.up.offloads ? 'on' : 'off'}/${r.down.offloads ? 'on' : 'off'}, server-bound ${r.up.serverBound ? 'yes' : 'no'}/${r.down.serverBound ? 'yes' : 'no'}`;
  lines.push(`(c->s/s->c) causeway: ${flags(ours)}${stock ? `; openvpn: ${flags(stock)}` : ''}${wg ? `; wireguard-go: ${flags(wg)}` : ''}`);
  return lines.join('\n');
}

const lab = await Lab.create();
try {
  console.log(`bench: ${PROTOS.join(' and ')}, ${CIPHER}, tls-crypt, iperf3 ${SECONDS} s each way, connect time median of ${CONNECT_RUNS}, ${cpus().length} cores`);
  const wireguard = WITH_WIREGUARD ? await withIperfServer(lab, () => measureWireguard(lab, wireguardBinary())) : null;
  const results: Record<string, { causeway: ClientResult; openvpn: ClientResult | null }> = {};
  for (const proto of PROTOS) {
    results[proto] = {
      causeway: await againstFreshServer(lab, proto, measureCauseway),
      openvpn: WITH_STOCK ? await againstFreshServer(lab, proto, measureOpenvpn) : null,
    };
  }
  for (const proto of PROTOS) console.log(`\n${table(proto, results[proto]!.causeway, results[proto]!.openvpn, wireguard)}`);
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/bench.json', JSON.stringify({ cipher: CIPHER, seconds: SECONDS, cores: cpus().length, wireguardGo: wireguard, ...results }, null, 2));
} finally {
  await lab.close();
}
