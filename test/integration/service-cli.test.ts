// The "done": an ordinary user in the service group runs `causeway connect` and the
// tunnel comes up through the installed service — no root, no pkexec. The service runs as
// root at its real path, /run/causeway/helper.sock, inside a private mount namespace (a tmpfs
// on /run/causeway) that the test's processes share, so nothing on the host sees the socket.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helperBinary, Lab, LabProcess, type LabServer } from '../peers/lab/index.js';
import { JsonEvents } from '../support/json-events.js';

const repo = join(import.meta.dirname, '../..');
const cliPath = join(repo, 'bin', 'causeway.cjs');
const tag = `${process.pid % 100000}`;
const GROUP = `cwcli${tag}`;
const USER = `cwcu${tag}`;

const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

describe('causeway connect as an ordinary user, through the service', () => {
  let lab: Lab;
  let server: LabServer;
  let home: string;
  let holder: LabProcess;
  let service: LabProcess;
  let uid: number;

  /** argv that runs `cmd` in the private mount namespace, as the test user unless `asRoot`. */
  const inNamespace = (argv: string[], asRoot = false): string[] => [
    'nsenter',
    '-t',
    String(holder.pid),
    '-m',
    ...(asRoot ? [] : ['setpriv', '--reuid', USER, '--regid', USER, '--init-groups']),
    ...argv,
  ];
  const userEnv = () => ({
    PATH: '/usr/bin:/bin',
    HOME: home,
    XDG_RUNTIME_DIR: join(home, 'run'),
    // Password profiles keep nothing in a keyring; the user has none here.
    CAUSEWAY_SECRET_STORE: 'memory',
  });
  const cli = (args: string[], input = '') => {
    const [cmd, ...rest] = inNamespace([process.execPath, cliPath, ...args]);
    return spawnSync(cmd!, rest, { env: userEnv(), input, encoding: 'utf8', timeout: 60_000 });
  };

  beforeAll(async () => {
    sh('groupadd', [GROUP]);
    sh('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--groups', GROUP, USER]);
    uid = Number(sh('id', ['-u', USER]));
    home = mkdtempSync(join(tmpdir(), 'causeway-user-home-'));
    mkdirSync(join(home, 'run'), { mode: 0o700 });
    for (const d of [home, join(home, 'run')]) chownSync(d, uid, Number(sh('id', ['-g', USER])));
    chmodSync(home, 0o700);

    lab = await Lab.create();
    server = await lab.startServer({ proto: 'tcp', clientAuth: 'password' });
    // The mount namespace: /run/causeway is a fresh tmpfs there, invisible to the host. Made
    // after the lab, so that it sees the lab's network namespace handles in /run/netns.
    mkdirSync('/run/causeway', { recursive: true });
    holder = new LabProcess(
      spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o mode=0755 tmpfs /run/causeway && echo ready && exec sleep 3600'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
      'mount namespace holder',
    );
    await holder.waitForLog('ready', 10_000);

    const [cmd, ...args] = inNamespace(['ip', 'netns', 'exec', lab.netns.client, helperBinary(), '--service', '--group', GROUP], true);
    service = new LabProcess(spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] }), 'causeway-helper --service');
    await service.waitForLog('service listening on /run/causeway/helper.sock', 10_000);

    const profile = join(home, 'work.ovpn');
    writeFileSync(
      profile,
      ['client', 'dev tun', 'proto tcp', `remote ${server.info.address} ${server.info.port}`, 'remote-cert-tls server', 'auth-user-pass', `<ca>\n${lab.pki.ca}</ca>`, ''].join('\n'),
    );
    chownSync(profile, uid, -1);
    const imported = cli(['import', profile, '--name', 'work']);
    if (imported.status !== 0) throw new Error(`import failed: ${imported.stderr}`);
  }, 120_000);

  afterAll(async () => {
    await service?.stop(15_000);
    await lab?.close();
    await holder?.stop();
    spawnSync('userdel', [USER]);
    spawnSync('groupdel', [GROUP]);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('connects, carries traffic, and disconnects from another command', async () => {
    const [cmd, ...args] = inNamespace([process.execPath, cliPath, 'connect', 'work', '--json-events']);
    const child = spawn(cmd!, args, { env: userEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const run = new JsonEvents(child, () => `; service: ${service.log}`);
    const waitFor = run.waitFor.bind(run);
    try {
      await waitFor((e) => e.event === 'prompt');
      child.stdin.write(`${lab.credentials.username}\n${lab.credentials.password}\nn\n`);
      await waitFor((e) => e.event === 'state' && e.phase === 'connected');
      // The session is the service's, tied to this user's uid.
      await expect.poll(() => service.log, { timeout: 5000 }).toContain(`client connected: uid ${uid}`);
      await lab.ping(server.info.tunnelAddress);
      expect(await lab.clientDevices()).toHaveLength(1);

      const off = cli(['disconnect', 'work']);
      expect(off.stdout).toContain('disconnected');
      expect(await run.exited).toBe(0);
      expect(await lab.clientDevices()).toEqual([]);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
