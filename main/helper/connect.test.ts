import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServiceSocket, connectHelper, isNamedPipe, privilegeWrap, serviceAddress, SERVICE_PIPE, type HelperConnection } from './connect.js';
import { findRepoRoot, helperCandidates, locateHelper } from './locate.js';
import { sampleEngineConfig } from '../../test/vectors/samples.js';
import type { HelperMessage } from '../../app/helper-protocol/messages.js';

const fakeHelper = join(import.meta.dirname, 'testing', 'fake-helper.mjs');
const open: HelperConnection[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.shutdown()));
});

function start(mode = 'normal', extra: Parameters<typeof connectHelper>[0] = {}) {
  return connectHelper({
    helperPath: fakeHelper,
    socketPath: null,
    uid: 0, // as root unless a test says otherwise: no pkexec around the stand-in
    env: { ...process.env, FAKE_HELPER: mode },
    handshakeTimeoutMs: 2_000,
    ...extra,
  }).then((c) => {
    open.push(c);
    return c;
  });
}

function nextClose(c: HelperConnection): Promise<string> {
  return new Promise((resolve) => c.channel.onClose(resolve));
}

describe('connectHelper over stdio', () => {
  it('spawns the helper (optionally wrapped), says hello and exchanges validated messages', async () => {
    const logs: string[] = [];
    const c = await start('normal', { wrap: [process.execPath], onLog: (l) => logs.push(l) });
    expect(c.helperVersion).toBe('fake-helper 0.0.0');
    expect(c.via).toBe('stdio');
    expect(c.pid).toBeGreaterThan(0);
    const got: HelperMessage[] = [];
    const connectedSeen = new Promise<void>((resolve) =>
      c.channel.onMessage((m) => {
        got.push(m);
        if (m.type === 'state' && m.phase === 'connected') resolve();
      }),
    );
    c.channel.send({ type: 'connect', session: 's1', config: sampleEngineConfig() });
    await connectedSeen;
    expect(got.map((m) => m.type).slice(0, 6)).toEqual(['state', 'state', 'state', 'pushed', 'echo', 'state']);
    await expect.poll(() => logs).toContain('fake-helper: received connect'); // stderr may lag stdout
    // Shutting down closes stdin: the helper ends its sessions and exits 0.
    const closed = nextClose(c);
    await c.shutdown();
    expect(await closed).toMatch(/exited with status 0|closed by Causeway/);
  });

  it('refuses to send a malformed message', async () => {
    const c = await start();
    expect(() => c.channel.send({ type: 'disconnect', session: '' })).toThrow(/disconnect\.session/);
  });

  it('reports a protocol version mismatch clearly', async () => {
    await expect(start('wrong-version')).rejects.toThrow(/protocol 2.*reinstall/);
  });

  it('gives up on a helper that never says hello', async () => {
    await expect(start('silent', { handshakeTimeoutMs: 300 })).rejects.toThrow(/did not say hello within 300 ms/);
  });

  it('treats a bad frame as the helper being unavailable', async () => {
    await expect(start('bad-frame')).rejects.toThrow(/unavailable: the helper sent a bad frame/);
  });

  it('closes the channel on a message that breaks the schema', async () => {
    const c = await start('invalid-message').catch((e: Error) => e);
    // The invalid log line may arrive with hello or just after it.
    const reason = c instanceof Error ? c.message : await nextClose(c);
    expect(reason).toMatch(/invalid message: log: unknown field "extra"/);
  });

  it('turns a helper crash into a close event naming the signal', async () => {
    const c = await start('crash-after-connect');
    const closed = nextClose(c);
    c.channel.send({ type: 'connect', session: 's1', config: sampleEngineConfig() });
    expect(await closed).toBe('the helper was killed by SIGKILL');
    expect(() => c.channel.send({ type: 'status' })).toThrow(/cannot talk to the helper: the helper was killed/);
  });

  it('turns a broken pipe (helper alive but not reading) into a close event', async () => {
    const c = await start('deaf');
    const closed = nextClose(c);
    // Large writes fill the pipe buffer and fail with EPIPE once the reader is gone.
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 20 && c.channel.closed === null; i++) {
      c.channel.send({ type: 'credentials', session: 's', username: 'u', password: 'p'.repeat(64 * 1024), response: null });
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await closed).toBe('the helper is gone (broken pipe)');
    process.kill(c.pid!, 'SIGKILL');
  });

  it('says so when the helper binary cannot be started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-helper-'));
    try {
      const bogus = join(dir, 'causeway-helper');
      writeFileSync(bogus, '#!/nonexistent/interpreter\n');
      chmodSync(bogus, 0o755);
      await expect(start('normal', { helperPath: bogus })).rejects.toThrow(/unavailable: could not start the helper/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the service socket', () => {
  let server: Server | null = null;
  let dir = '';
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function listen(): Promise<string> {
    dir = mkdtempSync(join(tmpdir(), 'cw-sock-'));
    const path = join(dir, 'helper.sock');
    server = createServer((s) => s.resume().end());
    await new Promise<void>((r) => server!.listen(path, r));
    return path;
  }

  it('refuses a socket that is not owned by root, before sending anything', async () => {
    const path = await listen();
    if (process.getuid?.() === 0) chownSync(path, 1000, 1000);
    expect(() => checkServiceSocket(path)).toThrow(/owned by uid \d+, not root/);
    await expect(connectHelper({ socketPath: path })).rejects.toThrow(/not root/);
  });

  it('refuses a path that is not a socket', () => {
    dir = mkdtempSync(join(tmpdir(), 'cw-sock-'));
    const path = join(dir, 'helper.sock');
    writeFileSync(path, '');
    expect(() => checkServiceSocket(path)).toThrow(/not a socket/);
  });

  it.runIf(process.getuid?.() === 0)('accepts a root-owned socket and reports the service closing on it', async () => {
    const path = await listen();
    expect(() => checkServiceSocket(path)).not.toThrow();
    await expect(connectHelper({ socketPath: path, handshakeTimeoutMs: 2_000 })).rejects.toThrow(
      /unavailable: the Causeway service closed the connection|unavailable: the helper closed the channel/,
    );
  });
});

describe('the Windows service pipe', () => {
  it('is where the service listens on Windows, the socket elsewhere', () => {
    expect(serviceAddress('win32')).toBe(String.raw`\\.\pipe\causeway-helper`);
    expect(serviceAddress('win32')).toBe(SERVICE_PIPE);
    expect(serviceAddress('linux')).toBe('/run/causeway/helper.sock');
    expect(serviceAddress('darwin')).toBe('/var/run/causeway/helper.sock');
    expect(isNamedPipe(SERVICE_PIPE)).toBe(true);
    expect(isNamedPipe(String.raw`\\?\pipe\x`)).toBe(true);
    expect(isNamedPipe('/run/causeway/helper.sock')).toBe(false);
    expect(isNamedPipe(String.raw`C:\pipe\x`)).toBe(false);
  });

  it('falls back to spawning the helper when no service serves the pipe', async () => {
    // No pipe of that name exists (on Linux node looks for a socket file of that name: ENOENT too).
    const c = await start('normal', { socketPath: String.raw`\\.\pipe\causeway-test-none-${process.pid}` });
    expect(c.via).toBe('stdio');
    expect(c.helperVersion).toBe('fake-helper 0.0.0');
  });
});

describe('locateHelper', () => {
  it('finds the repository from any depth below it', () => {
    const root = join(import.meta.dirname, '..', '..');
    expect(findRepoRoot(import.meta.dirname)).toBe(root);
    expect(findRepoRoot(join(root, 'dist', 'main', 'electron'))).toBe(root);
    expect(findRepoRoot('/')).toBeNull();
  });

  it('prefers CAUSEWAY_HELPER and refuses it when it is not executable', () => {
    expect(locateHelper({ env: { CAUSEWAY_HELPER: fakeHelper } })).toBe(fakeHelper);
    expect(() => locateHelper({ env: { CAUSEWAY_HELPER: '/nonexistent/helper' } })).toThrow(/not an executable file/);
  });

  it('searches the packaged location, then the repository build, and names them when missing', () => {
    const c = helperCandidates({ env: {}, platform: 'linux', resourcesPath: '/opt/Causeway/resources', repoRoot: '/repo' });
    expect(c).toEqual([
      '/opt/Causeway/resources/bin/causeway-helper',
      '/usr/lib/causeway/causeway-helper',
      '/repo/native/target/release/causeway-helper',
    ]);
    expect(() => locateHelper({ env: {}, platform: 'darwin', repoRoot: '/nonexistent' })).toThrow(
      /causeway-helper was not found \(looked in \/nonexistent\/native\/target\/release\/causeway-helper\)/,
    );
  });
});

describe('without the service, as a user who is not root', () => {
  // A stand-in pkexec on PATH that says it ran and then runs its arguments, as pkexec does once
  // an administrator has authenticated.
  const bin = mkdtempSync(join(tmpdir(), 'causeway-pkexec-'));
  const pkexec = join(bin, 'pkexec');
  writeFileSync(pkexec, '#!/bin/sh\necho "pkexec ran: $*" >&2\nexec "$@"\n', { mode: 0o755 });
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
  afterAll(() => rmSync(bin, { recursive: true, force: true }));

  it('starts the helper through pkexec by itself when no service socket exists', async () => {
    const logs: string[] = [];
    const c = await start('normal', { uid: 1000, socketPath: join(bin, 'no-such.sock'), env: { ...env, FAKE_HELPER: 'normal' }, onLog: (l) => logs.push(l) });
    expect(c.via).toBe('stdio');
    await expect.poll(() => logs).toContain(`pkexec ran: ${fakeHelper} --stdio`);
  });

  it('uses no wrapper as root, nor when pkexec is not installed; an explicit wrap wins', async () => {
    expect(privilegeWrap(env, 0)).toEqual([]);
    expect(privilegeWrap({ PATH: join(bin, 'empty') }, 1000)).toEqual([]);
    expect(privilegeWrap(env, 1000)).toEqual([pkexec]);
    const logs: string[] = [];
    await start('normal', { uid: 1000, wrap: [], env: { ...env, FAKE_HELPER: 'normal' }, onLog: (l) => logs.push(l) });
    expect(logs.join('\n')).not.toContain('pkexec ran');
  });
});
