// `causeway-helper --service` as root, used by ordinary users the test creates: the socket's
// owner, group and mode; a user outside the group is refused (by the kernel, and by the
// helper's own SO_PEERCRED check when the socket mode is loosened); each user sees and controls
// only their own sessions; SIGTERM ends every session and removes the socket.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HelperMessage } from '../../app/helper-protocol/messages.js';
import { PROTOCOL_VERSION } from '../../app/helper-protocol/messages.js';
import { parseHelperMessage } from '../../app/helper-protocol/validate.js';
import { helperBinary, Lab, LabProcess, type LabServer } from '../peers/lab/index.js';

const tag = `${process.pid % 100000}`;
const GROUP = `cwsvc${tag}`;
const USERS = { alice: `cwsa${tag}`, bob: `cwsb${tag}`, mallory: `cwsm${tag}` };

// Runs as the user: bridges JSON lines on stdin/stdout to length-prefixed frames on the socket
// (the protocol's framing: u32 big-endian length + UTF-8 JSON).
const CLIENT = `
import { createConnection } from 'node:net';
import { createInterface } from 'node:readline';
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const sock = createConnection(process.argv[2]);
let buf = Buffer.alloc(0);
sock.on('connect', () => out({ type: '__connected' }));
sock.on('error', (e) => { out({ type: '__error', code: e.code }); process.exit(0); });
sock.on('close', () => { out({ type: '__closed' }); process.exit(0); });
sock.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
    const n = buf.readUInt32BE(0);
    out(JSON.parse(buf.subarray(4, 4 + n).toString('utf8')));
    buf = buf.subarray(4 + n);
  }
});
createInterface({ input: process.stdin }).on('line', (line) => {
  const body = Buffer.from(line, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  sock.write(Buffer.concat([len, body]));
});
`;

type Received = HelperMessage | { type: '__connected' | '__closed' } | { type: '__error'; code: string };

/** One user's connection to the service, through the CLIENT bridge run under their uid. */
class UserClient {
  readonly received: Received[] = [];
  private readonly child: ChildProcess;

  constructor(user: string, script: string, socket: string) {
    this.child = spawn('setpriv', ['--reuid', user, '--regid', user, '--init-groups', process.execPath, script, socket], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const value = JSON.parse(line) as { type: string };
      // Everything the helper sends must pass the app's own validator.
      this.received.push(value.type.startsWith('__') ? (value as Received) : parseHelperMessage(value));
    });
  }

  send(message: object): void {
    this.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  async waitFor<T extends Received>(match: (m: Received) => m is T, timeoutMs?: number, since?: number): Promise<T>;
  async waitFor(match: (m: Received) => boolean, timeoutMs?: number, since?: number): Promise<Received>;
  async waitFor(match: (m: Received) => boolean, timeoutMs = 20_000, since = 0): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.slice(since).find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out; received: ${JSON.stringify(this.received).slice(0, 2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async hello(): Promise<void> {
    await this.waitFor((m) => m.type === '__connected' || m.type === '__error' || m.type === '__closed');
    this.send({ type: 'hello', version: PROTOCOL_VERSION, client: 'service-test' });
    await this.waitFor((m) => m.type === 'hello');
  }

  async status(): Promise<Extract<HelperMessage, { type: 'statusReply' }>['sessions']> {
    const since = this.received.length;
    this.send({ type: 'status' });
    const reply = await this.waitFor((m): m is Extract<HelperMessage, { type: 'statusReply' }> => m.type === 'statusReply', 10_000, since);
    return reply.sessions;
  }

  close(): void {
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
  }
}

const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
const uidOf = (user: string) => Number(sh('id', ['-u', user]));

describe('causeway-helper --service with ordinary users', () => {
  let lab: Lab;
  let server: LabServer;
  let dir: string;
  let socket: string;
  let script: string;
  let service: LabProcess;
  const clients: UserClient[] = [];
  const client = (user: string) => {
    const c = new UserClient(user, script, socket);
    clients.push(c);
    return c;
  };
  const stateOf = (c: UserClient, session: string, phase: string) =>
    c.waitFor((m) => m.type === 'state' && m.session === session && m.phase === phase);

  beforeAll(async () => {
    sh('groupadd', [GROUP]);
    sh('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--groups', GROUP, USERS.alice]);
    sh('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--groups', GROUP, USERS.bob]);
    sh('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', USERS.mallory]);
    dir = mkdtempSync(join(tmpdir(), 'causeway-service-'));
    chmodSync(dir, 0o755);
    socket = join(dir, 'run', 'helper.sock');
    script = join(dir, 'client.mjs');
    writeFileSync(script, CLIENT, { mode: 0o644 });
    lab = await Lab.create();
    server = await lab.startServer({ proto: 'udp' });
    const child = spawn('ip', ['netns', 'exec', lab.netns.client, helperBinary(), '--service', '--socket', socket, '--group', GROUP], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service = new LabProcess(child, 'causeway-helper --service');
    await service.waitForLog('service listening on', 10_000);
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    await service?.stop();
    await lab?.close();
    for (const user of Object.values(USERS)) spawnSync('userdel', [user]);
    spawnSync('groupdel', [GROUP]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('listens on a root-owned socket, mode 0660, group-owned by the service group', () => {
    const st = statSync(socket);
    expect(st.isSocket()).toBe(true);
    expect(st.uid).toBe(0);
    expect(st.gid).toBe(Number(sh('getent', ['group', GROUP]).split(':')[2]));
    expect(st.mode & 0o777).toBe(0o660);
  });

  it('refuses a user outside the group', async () => {
    const mallory = client(USERS.mallory);
    expect(await mallory.waitFor((m) => m.type === '__error' || m.type === '__connected')).toEqual({ type: '__error', code: 'EACCES' });
  });

  it('refuses a user outside the group even if the socket mode were loosened (SO_PEERCRED check)', async () => {
    chmodSync(socket, 0o666);
    try {
      const mallory = client(USERS.mallory);
      const refusal = await mallory.waitFor((m) => m.type === 'error');
      expect(refusal).toMatchObject({ type: 'error', code: 'permission-denied' });
      await mallory.waitFor((m) => m.type === '__closed');
    } finally {
      chmodSync(socket, 0o660);
    }
    await expect.poll(() => service.log, { timeout: 5000 }).toContain(`refused uid ${uidOf(USERS.mallory)}`);
  });

  it("keeps each user's sessions to themselves: bob can neither see nor disconnect alice's", async () => {
    const alice = client(USERS.alice);
    await alice.hello();
    alice.send({ type: 'connect', session: 'work', config: lab.engineConfig(server) });
    await stateOf(alice, 'work', 'connected');
    const aliceView = await alice.status();
    expect(aliceView).toHaveLength(1);
    expect(aliceView[0]).toMatchObject({ session: 'work', phase: 'connected', uid: uidOf(USERS.alice) });

    const bob = client(USERS.bob);
    await bob.hello();
    expect(await bob.status()).toEqual([]);
    const since = bob.received.length;
    bob.send({ type: 'disconnect', session: 'work' });
    expect(await bob.waitFor((m) => m.type === 'error', 10_000, since)).toMatchObject({ code: 'unknown-session' });
    // Bob may even use the same session name: it is a different session, his own.
    bob.send({ type: 'connect', session: 'work', config: lab.engineConfig(server) });
    await stateOf(bob, 'work', 'connected');
    expect((await bob.status()).map((s) => s.uid)).toEqual([uidOf(USERS.bob)]);
    bob.send({ type: 'disconnect', session: 'work' });
    await stateOf(bob, 'work', 'disconnected');

    // Alice's session went on through all of that, and carries traffic.
    expect((await alice.status())[0]).toMatchObject({ session: 'work', phase: 'connected' });
    await lab.ping(server.info.tunnelAddress);
    expect(alice.received.filter((m) => m.type === 'state' && m.phase === 'disconnected')).toEqual([]);
  });

  it('ends every session and removes the socket on SIGTERM', async () => {
    const devicesBefore = await lab.clientDevices();
    expect(devicesBefore.length).toBeGreaterThan(0);
    await service.stop(15_000);
    await expect.poll(() => service.log, { timeout: 5000 }).toContain('service stopping');
    expect(await lab.clientDevices()).toEqual([]);
    expect(() => statSync(socket)).toThrow();
  });
});
