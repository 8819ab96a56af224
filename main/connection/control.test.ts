// The control socket between `causeway connect` processes and `causeway status`/`disconnect`.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryAll, serveControl, type ControlServer } from './control.js';
import type { ConnectionManager, SessionSnapshot } from './manager.js';

const snapshot = (profileId: string, phase: 'connected' | 'idle'): SessionSnapshot => ({
  id: `${profileId}.1`,
  profileId,
  profileName: profileId.toUpperCase(),
  state: phase === 'connected' ? { phase, remote: null, since: 0 } : { phase },
  stats: { rxBytes: 0, txBytes: 0, connectedSince: null },
  pushed: null,
  banner: [],
  retrying: false,
});

/** The two methods the control socket uses, over a map of sessions. */
function fakeManager(ids: string[]) {
  const phases = new Map(ids.map((id) => [id, 'connected' as 'connected' | 'idle']));
  return {
    list: () => [...phases].map(([id, p]) => snapshot(id, p)),
    get: (id: string) => (phases.has(id) ? snapshot(id, phases.get(id)!) : null),
    disconnect: async (id: string) => void phases.set(id, 'idle'),
  } as unknown as ConnectionManager;
}

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('control socket', () => {
  it('serves status and disconnect to other processes through a private socket', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'cw-ctl-')), 'causeway');
    cleanup.push(() => rmSync(join(dir, '..'), { recursive: true, force: true }));
    const server: ControlServer = await serveControl(fakeManager(['corp', 'lab']), dir);
    cleanup.push(() => server.close());
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(server.path).mode & 0o777).toBe(0o600);

    const [status] = await queryAll({ op: 'status' }, dir);
    expect(status).toMatchObject({ ok: true, pid: process.pid });
    expect(status!.ok && status!.sessions.map((s) => s.profileId)).toEqual(['corp', 'lab']);

    const [done] = await queryAll({ op: 'disconnect', profile: 'LAB' }, dir);
    expect(done!.ok && done!.sessions.map((s) => [s.profileId, s.state.phase])).toEqual([['lab', 'idle']]);
    const [after] = await queryAll({ op: 'status' }, dir);
    expect(after!.ok && after!.sessions.map((s) => s.state.phase)).toEqual(['connected', 'idle']);
  });

  it('removes sockets whose process is gone and ignores other files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cw-ctl-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const stale = join(dir, 'connect-999999.sock');
    const s = createServer();
    await new Promise<void>((r) => s.listen(stale, r));
    await new Promise<void>((r) => s.close(() => r()));
    writeFileSync(stale, ''); // a leftover file where a socket was
    writeFileSync(join(dir, 'notes.txt'), 'not a socket');
    expect(await queryAll({ op: 'status' }, dir)).toEqual([]);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
  });
});
