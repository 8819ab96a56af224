// wireguard-go at both ends of the lab's veth: the best userspace tunnel on this machine, as a
// reference. Each end runs the userspace implementation (with its TUN offloads, UDP GSO/GRO and
// batching) and is configured with `wg` from wireguard-tools.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inNetns, run, sleep } from '../test/peers/lab/exec.js';
import type { Lab } from '../test/peers/lab/index.js';
import { LabProcess } from '../test/peers/lab/process.js';

const PORT = 51820;
const MTU = 1420;
export const WG_SERVER_ADDRESS = '10.98.0.1';
const WG_CLIENT_ADDRESS = '10.98.0.2';

export interface WireguardPair {
  server: LabProcess;
  client: LabProcess;
  stop(): Promise<void>;
}

async function keyPair(): Promise<{ priv: string; pub: string }> {
  const priv = (await run('wg', ['genkey'])).stdout.trim();
  const pub = (await run('wg', ['pubkey'], { input: `${priv}\n` })).stdout.trim();
  return { priv, pub };
}

/** Starts wireguard-go as device `ifname` in `netns` and waits for its control socket. */
async function startDevice(bin: string, netns: string, ifname: string): Promise<LabProcess> {
  const [cmd, args] = inNetns(netns, bin, ['-f', ifname]);
  const proc = new LabProcess(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'error' } }), `wireguard-go ${ifname}`);
  // The UAPI socket path is global (not per namespace), so device names carry our pid.
  const socket = `/var/run/wireguard/${ifname}.sock`;
  for (let i = 0; !existsSync(socket); i++) {
    if (!proc.running || i > 200) {
      await proc.stop();
      throw new Error(`wireguard-go did not start ${ifname}:\n${proc.log}`);
    }
    await sleep(25);
  }
  return proc;
}

/** A wireguard-go tunnel from the lab's client namespace to its server namespace. */
export async function startWireguard(lab: Lab, bin: string): Promise<WireguardPair> {
  const tag = String(process.pid % 100000);
  const names = { server: `cwwgs${tag}`, client: `cwwgc${tag}` };
  const [serverKeys, clientKeys] = [await keyPair(), await keyPair()];
  const started: LabProcess[] = [];
  const stop = async () => {
    for (const p of started.reverse()) await p.stop();
  };
  try {
    const ends = [
      { ns: lab.netns.server, name: names.server, keys: serverKeys, peer: clientKeys.pub, address: WG_SERVER_ADDRESS, peerAddress: WG_CLIENT_ADDRESS, endpoint: [] as string[] },
      { ns: lab.netns.client, name: names.client, keys: clientKeys, peer: serverKeys.pub, address: WG_CLIENT_ADDRESS, peerAddress: WG_SERVER_ADDRESS, endpoint: ['endpoint', `${lab.netns.serverAddress}:${PORT}`] },
    ];
    for (const end of ends) {
      started.push(await startDevice(bin, end.ns, end.name));
      const keyFile = join(lab.dir, `${end.name}.key`);
      await run('sh', ['-c', 'umask 077; cat > "$1"', 'sh', keyFile], { input: `${end.keys.priv}\n` });
      await run(...inNetns(end.ns, 'wg', ['set', end.name, 'private-key', keyFile, 'listen-port', String(PORT), 'peer', end.peer, 'allowed-ips', `${end.peerAddress}/32`, ...end.endpoint]));
      await run('ip', ['-n', end.ns, 'addr', 'add', `${end.address}/24`, 'dev', end.name]);
      await run('ip', ['-n', end.ns, 'link', 'set', 'dev', end.name, 'mtu', String(MTU), 'up']);
    }
    await run(...inNetns(lab.netns.client, 'ping', ['-c', '1', '-W', '5', WG_SERVER_ADDRESS]));
    return { server: started[0]!, client: started[1]!, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
