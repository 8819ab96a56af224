// The per-user control socket: every running `causeway connect` serves one, so `causeway status`
// and `causeway disconnect` (other processes of the same user) can see and stop its sessions.
//
// Sockets live in a private directory — $XDG_RUNTIME_DIR/causeway, else /run/user/<uid>/causeway,
// else <tmpdir>/causeway-<uid> — created 0700 and refused when another user owns it; each socket
// is `connect-<pid>.sock`, mode 0600. The protocol is one JSON request line, one JSON reply line.
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionManager, SessionSnapshot } from './manager.js';

export type ControlRequest = { op: 'status' } | { op: 'disconnect'; profile: string | null };
export type ControlReply =
  | { ok: true; pid: number; sessions: SessionSnapshot[] }
  | { ok: false; pid: number; error: string };

const MAX_REQUEST_BYTES = 64 * 1024;

export function controlDir(env: NodeJS.ProcessEnv = process.env): string {
  const uid = process.getuid?.() ?? 0;
  if (env.CAUSEWAY_CONTROL_DIR) return env.CAUSEWAY_CONTROL_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'causeway');
  if (existsSync(`/run/user/${uid}`)) return join(`/run/user/${uid}`, 'causeway');
  return join(tmpdir(), `causeway-${uid}`);
}

/** Creates the directory 0700, or checks that the existing one is ours and private. */
function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (uid !== undefined && st.uid !== uid) throw new Error(`refusing ${dir}: it belongs to uid ${st.uid}, not to you`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

/** Serves `manager` on this process's control socket. */
export async function serveControl(manager: ConnectionManager, dir = controlDir()): Promise<ControlServer> {
  ensurePrivateDir(dir);
  const path = join(dir, `connect-${process.pid}.sock`);
  rmSync(path, { force: true });
  const server: Server = createServer((socket) => {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES) return socket.destroy();
      const newline = buffered.indexOf('\n');
      if (newline < 0) return;
      void answer(manager, buffered.slice(0, newline)).then((reply) => socket.end(`${JSON.stringify(reply)}\n`));
    });
  });
  const previousUmask = process.umask(0o177); // the socket file is created 0600
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(previousUmask);
  }
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(path, { force: true });
      }),
  };
}

async function answer(manager: ConnectionManager, line: string): Promise<ControlReply> {
  let request: ControlRequest;
  try {
    request = JSON.parse(line) as ControlRequest;
  } catch {
    return { ok: false, pid: process.pid, error: 'the request is not JSON' };
  }
  try {
    if (request.op === 'status') return { ok: true, pid: process.pid, sessions: manager.list() };
    if (request.op === 'disconnect') {
      const targets = manager.list().filter((s) => request.profile === null || s.profileId === request.profile || s.profileName === request.profile);
      await Promise.all(targets.map((s) => manager.disconnect(s.profileId)));
      return { ok: true, pid: process.pid, sessions: targets.map((s) => manager.get(s.profileId)!).filter(Boolean) };
    }
    return { ok: false, pid: process.pid, error: 'unknown request' };
  } catch (e) {
    return { ok: false, pid: process.pid, error: (e as Error).message };
  }
}

/** Sends `request` to every running `causeway connect` of this user; stale sockets are removed. */
export async function queryAll(request: ControlRequest, dir = controlDir(), timeoutMs = 15_000): Promise<ControlReply[]> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^connect-\d+\.sock$/.test(n));
  } catch {
    return [];
  }
  const replies = await Promise.all(names.map((n) => query(join(dir, n), request, timeoutMs)));
  return replies.filter((r): r is ControlReply => r !== null);
}

function query(path: string, request: ControlRequest, timeoutMs: number): Promise<ControlReply | null> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (c: string) => (data += c));
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(data) as ControlReply);
      } catch {
        resolve(null);
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // Nobody listens: the process that made it is gone.
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') rmSync(path, { force: true });
      resolve(null);
    });
  });
}
