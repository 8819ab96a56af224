// Two network namespaces joined by a veth pair: the server side and the client side.
// Names carry the test process's pid and a counter so parallel runs never clash; the
// addresses are the same in every pair because each pair lives in its own namespaces.
import { statSync } from 'node:fs';
import { run } from './exec.js';

export interface NetnsPair {
  server: string;
  client: string;
  /** The server's address on the veth link (what clients connect to). */
  serverAddress: string;
  /** A second address of the server namespace, for remote-list failover between servers. */
  serverAddress2: string;
  clientAddress: string;
  /** The client side's veth device (the client namespace's "physical" interface). */
  clientDevice: string;
}

let counter = 0;
let sweptStale = false;

/** Namespace names carry our PID namespace and pid: `cw-lab-<pidns inode>-<pid>x<n>-<s|c|p>`. */
const LAB_NETNS = /^cw-lab-(\d+)-(\d+)x\d+-[scp]$/;
/** Pids only mean something inside their PID namespace (a CI container may share /run/netns). */
const pidNamespace = statSync('/proc/self/ns/pid').ino;

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes lab namespaces whose test process is gone (a run killed before its afterAll), after
 * killing by PID whatever still runs inside them. Namespaces of live test processes — other
 * suites running now — are left alone.
 */
async function sweepStaleNamespaces(): Promise<void> {
  const list = await run('ip', ['netns', 'list'], { check: false });
  for (const line of list.stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const [, ns, owner] = LAB_NETNS.exec(name) ?? [];
    if (!owner || Number(ns) !== pidNamespace || processExists(Number(owner))) continue;
    const pids = await run('ip', ['netns', 'pids', name], { check: false });
    for (const pid of pids.stdout.split('\n').filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await run('ip', ['netns', 'del', name], { check: false });
  }
}

export async function createNetnsPair(): Promise<NetnsPair> {
  if (!sweptStale) {
    sweptStale = true;
    await sweepStaleNamespaces();
  }
  const tag = `${process.pid}x${counter++}`;
  const pair: NetnsPair = {
    server: `cw-lab-${pidNamespace}-${tag}-s`,
    client: `cw-lab-${pidNamespace}-${tag}-c`,
    serverAddress: '10.99.0.1',
    serverAddress2: '10.99.0.3',
    clientAddress: '10.99.0.2',
    clientDevice: `cwv${tag}c`.slice(0, 15),
  };
  const serverDevice = `cwv${tag}s`.slice(0, 15);
  const ip = (...args: string[]) => run('ip', args);
  try {
    await ip('netns', 'add', pair.server);
    await ip('netns', 'add', pair.client);
    await ip('link', 'add', serverDevice, 'type', 'veth', 'peer', 'name', pair.clientDevice);
    await ip('link', 'set', serverDevice, 'netns', pair.server);
    await ip('link', 'set', pair.clientDevice, 'netns', pair.client);
    await ip('-n', pair.server, 'addr', 'add', `${pair.serverAddress}/24`, 'dev', serverDevice);
    await ip('-n', pair.server, 'addr', 'add', `${pair.serverAddress2}/24`, 'dev', serverDevice);
    await ip('-n', pair.client, 'addr', 'add', `${pair.clientAddress}/24`, 'dev', pair.clientDevice);
    for (const [ns, dev] of [
      [pair.server, serverDevice],
      [pair.client, pair.clientDevice],
    ] as const) {
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
    // A default route like a real LAN's, so redirect-gateway has an original gateway to keep
    // the server reachable through.
    await ip('-n', pair.client, 'route', 'add', 'default', 'via', pair.serverAddress);
  } catch (e) {
    await deleteNetnsPair(pair);
    throw e;
  }
  return pair;
}

/** The path namespace's address on its own link to the server namespace (10.97.0.0/24). */
export const PATH_ADDRESS = '10.97.0.2';
const PATH_ROUTER = '10.97.0.1';

/** The name of the pair's path namespace (see `addPathNamespace`). */
export function pathNamespace(pair: NetnsPair): string {
  return pair.server.replace(/-s$/, '-p');
}

/**
 * Adds a third namespace on a link of its own behind the server namespace, which forwards
 * between it and the client's LAN: a hop on the way that the client reaches through its
 * default route, like a router between a laptop and its VPN server. What a path does to
 * packets in userspace (the delay relay) runs there, apart from the client and the server.
 */
export async function addPathNamespace(pair: NetnsPair): Promise<string> {
  const ns = pathNamespace(pair);
  const device = pair.clientDevice.replace(/^cwv/, 'cwp');
  const routerDevice = pair.clientDevice.replace(/^cwv/, 'cwr');
  const ip = (...args: string[]) => run('ip', args);
  await ip('netns', 'add', ns);
  await ip('link', 'add', routerDevice, 'type', 'veth', 'peer', 'name', device);
  await ip('link', 'set', routerDevice, 'netns', pair.server);
  await ip('link', 'set', device, 'netns', ns);
  await ip('-n', pair.server, 'addr', 'add', `${PATH_ROUTER}/24`, 'dev', routerDevice);
  await ip('-n', ns, 'addr', 'add', `${PATH_ADDRESS}/24`, 'dev', device);
  for (const [n, dev] of [
    [pair.server, routerDevice],
    [ns, device],
    [ns, 'lo'],
  ] as const) {
    await ip('-n', n, 'link', 'set', dev, 'up');
  }
  await ip('-n', ns, 'route', 'add', 'default', 'via', PATH_ROUTER);
  // Namespaced: only this lab's server namespace forwards.
  await run('ip', ['netns', 'exec', pair.server, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  return ns;
}

/** Deletes the namespaces (the veth pairs go with them). Processes must be stopped first. */
export async function deleteNetnsPair(pair: NetnsPair): Promise<void> {
  for (const ns of [pair.client, pair.server, pathNamespace(pair)]) {
    await run('ip', ['netns', 'del', ns], { check: false });
  }
}
