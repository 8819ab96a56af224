// main/core.ts as the desktop app uses it: one process, one real helper (spawned in the lab's
// client namespace through the `wrap` option), two profiles connected at the same time over
// that helper, each with its own tunnel; disconnecting one leaves the other up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Lab, type LabServer } from '../peers/lab/index.js';
import { run } from '../peers/lab/exec.js';
import { startTestKeyring, type TestKeyring } from '../support/keyring.js';
import { openCore, type Core } from '../../main/core.js';
import { SecretServiceStore } from '../../main/secrets/secret-service-store.js';
import { importOvpnFile } from '../../main/profiles/importer.js';
import type { ConnectionPhase } from '../../app/connection/state.js';

const repo = resolve(import.meta.dirname, '..', '..');
const helperPath = join(repo, 'native', 'target', 'release', 'causeway-helper');
const results = join(repo, 'test-results', 'cli-core-sessions');

let lab: Lab;
let keyring: TestKeyring;
let dir: string;
let core: Core;
let udp: LabServer;
let tcp: LabServer;
let baselineRoutes: string[];

function until(profile: string, phase: ConnectionPhase, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    if (core.connections.get(profile)?.state.phase === phase) return resolvePromise();
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`${profile} never reached ${phase} (now ${core.connections.get(profile)?.state.phase})`));
    }, timeoutMs);
    const stop = core.connections.on((e) => {
      if (e.type === 'state' && e.session.profileName === profile && e.session.state.phase === phase) {
        clearTimeout(timer);
        stop();
        resolvePromise();
      }
    });
  });
}

beforeAll(async () => {
  rmSync(results, { recursive: true, force: true });
  mkdirSync(results, { recursive: true });
  [lab, keyring] = await Promise.all([Lab.create(), startTestKeyring()]);
  dir = mkdtempSync(join(tmpdir(), 'cw-core-sessions-'));
  for (const key of [keyring.password, lab.pki.clientEc.key, lab.pki.clientRsa.key]) {
    for (const line of key.split('\n').map((l) => l.trim())) {
      if (line.length >= 6 && !line.startsWith('-----')) appendFileSync(join(repo, 'test-results', 'secrets.txt'), `${line}\n`);
    }
  }
  udp = await lab.startServer({ proto: 'udp' });
  tcp = await lab.startServer({ proto: 'tcp' });
  baselineRoutes = await lab.clientRoutes();
  core = await openCore({
    prompter: { ask: async () => null },
    configDir: join(dir, 'config'),
    logDir: join(dir, 'logs'),
    secrets: new SecretServiceStore(keyring.env),
    helper: { helperPath, wrap: ['ip', 'netns', 'exec', lab.netns.client], socketPath: null },
    clientName: 'causeway-test',
  });
  for (const [name, server, id] of [
    ['udp', udp, lab.pki.clientEc],
    ['tcp', tcp, lab.pki.clientRsa],
  ] as const) {
    const file = join(dir, `${name}.ovpn`);
    writeFileSync(
      file,
      `client\ndev tun\nproto ${server.info.options.proto}\nremote ${server.info.address} ${server.info.port}\nremote-cert-tls server\n` +
        `<ca>\n${lab.pki.ca}</ca>\n<cert>\n${id.cert}</cert>\n<key>\n${id.key}</key>\n`,
    );
    const outcome = await importOvpnFile(core.profiles, file, { name });
    if (!outcome.ok) throw new Error(`import ${name}: ${JSON.stringify(outcome.errors)}`);
  }
}, 180_000);

afterAll(async () => {
  await core?.shutdown();
  if (dir) {
    for (const p of ['udp', 'tcp']) {
      try {
        writeFileSync(join(results, `${p}.log`), core.readLog(p).join('\n'));
      } catch {
        // no log
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  await lab?.close();
  await keyring?.stop();
}, 60_000);

describe('the core with one real helper', () => {
  it('connects two profiles at once over one helper; disconnecting one keeps the other', async () => {
    core.connections.connect('udp');
    core.connections.connect('tcp');
    await Promise.all([until('udp', 'connected'), until('tcp', 'connected')]);
    const [a, b] = [core.connections.get('udp')!, core.connections.get('tcp')!];
    expect(a.pushed?.device).not.toBe(b.pushed?.device);
    expect((await lab.clientDevices()).sort()).toEqual([a.pushed!.device, b.pushed!.device].sort());
    await lab.ping(udp.info.tunnelAddress);
    await lab.ping(tcp.info.tunnelAddress);
    const helpers = (await run('ps', ['-o', 'comm=', '--ppid', String(process.pid)])).stdout.split('\n').filter((c) => c.startsWith('causeway-helper'));
    expect(helpers).toHaveLength(1);

    await core.connections.disconnect('udp');
    expect(core.connections.get('udp')!.state.phase).toBe('idle');
    expect(await lab.clientDevices()).toEqual([b.pushed!.device]);
    await lab.ping(tcp.info.tunnelAddress);
    expect(core.connections.get('tcp')!.stats.connectedSince).not.toBeNull();

    await core.connections.disconnect('tcp');
    expect(await lab.clientDevices()).toEqual([]);
    expect(await lab.clientRoutes()).toEqual(baselineRoutes);
  });
});
