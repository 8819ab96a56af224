// Starts or reaches a causeway-helper and says hello.
//
// - When the system service is installed (its socket exists), connect to it — but only if the
//   socket is owned by root: anyone could otherwise plant a fake "helper" and collect the keys
//   and passwords we send it. On Windows the service is a named pipe (node's net module speaks
//   them); its DACL is the service's to set, and no pipe means no service.
// - Otherwise spawn `causeway-helper --stdio` ourselves, wrapped as asked (`ip netns exec <ns>`
//   in tests, CAUSEWAY_HELPER_WRAP) or, for a user who is not root, through `pkexec` (the
//   AppImage and source builds without the service: an administrator authenticates).
// The returned connection reports every way it can end (exit, crash, EPIPE, bad frame) through
// channel.onClose; a new connectHelper() call starts a fresh helper.
import { spawn } from 'node:child_process';
import { accessSync, constants, lstatSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createConnection, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { PROTOCOL_VERSION } from '../../app/helper-protocol/messages.js';
import { HelperChannel } from './channel.js';
import { locateHelper } from './locate.js';

export const SERVICE_SOCKET = '/run/causeway/helper.sock';
/** The launchd daemon's socket (resources/macos/org.causeway.helper.plist). */
export const SERVICE_SOCKET_MACOS = '/var/run/causeway/helper.sock';
export const SERVICE_PIPE = '\\\\.\\pipe\\causeway-helper';

/** Where the installed service listens on `platform`. */
export function serviceAddress(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return SERVICE_PIPE;
  return platform === 'darwin' ? SERVICE_SOCKET_MACOS : SERVICE_SOCKET;
}

/** A Windows named pipe path (`\\.\pipe\name`), which no file system call may probe. */
export function isNamedPipe(path: string): boolean {
  return /^\\\\[.?]\\pipe\\/i.test(path);
}

export interface HelperOptions {
  /** The helper binary; default: locateHelper(). */
  helperPath?: string;
  /** Command prefix, e.g. ['ip', 'netns', 'exec', 'cw-client-1234']; default: privilegeWrap(). */
  wrap?: string[];
  /** The user we run as; default process.getuid(). */
  uid?: number;
  env?: NodeJS.ProcessEnv;
  /** The service socket or pipe; default serviceAddress() when it exists; null never uses one. */
  socketPath?: string | null;
  /** Each line the spawned helper writes to stderr (its log; it never contains secrets). */
  onLog?: (line: string) => void;
  handshakeTimeoutMs?: number;
  /** Sent in hello, e.g. "causeway-cli 0.1.0". */
  clientName?: string;
}

export interface HelperConnection {
  readonly channel: HelperChannel;
  /** From the helper's hello, e.g. "causeway-helper 0.1.0". */
  readonly helperVersion: string;
  /** The spawned helper's pid (null over the service socket). */
  readonly pid: number | null;
  readonly via: 'stdio' | 'socket';
  /** Ends the connection; a spawned helper disconnects every session and exits on stdin EOF. */
  shutdown(): Promise<void>;
}

/** Throws unless `path` is a Unix socket owned by root. */
export function checkServiceSocket(path: string): void {
  const st = lstatSync(path);
  if (!st.isSocket()) throw new Error(`refusing ${path}: it is not a socket`);
  if (st.uid !== 0) throw new Error(`refusing ${path}: it is owned by uid ${st.uid}, not root; it is not the Causeway service`);
}

function socketExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export async function connectHelper(options: HelperOptions = {}): Promise<HelperConnection> {
  const socketPath = options.socketPath === undefined ? serviceAddress() : options.socketPath;
  const connection =
    socketPath === null
      ? spawnHelper(options)
      : isNamedPipe(socketPath)
        ? ((await openPipe(socketPath)) ?? spawnHelper(options))
        : socketExists(socketPath)
          ? await openSocket(socketPath)
          : spawnHelper(options);
  try {
    const helperVersion = await handshake(connection.channel, options);
    return { ...connection, helperVersion };
  } catch (e) {
    await connection.shutdown();
    throw e;
  }
}

type Unshaken = Omit<HelperConnection, 'helperVersion'>;

function openSocket(path: string): Promise<Unshaken> {
  checkServiceSocket(path);
  return connectService(path);
}

/** The Windows service's pipe; null when there is none (no service installed or running). */
async function openPipe(path: string): Promise<Unshaken | null> {
  try {
    return await connectService(path);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw e;
  }
}

function connectService(path: string): Promise<Unshaken> {
  return new Promise((resolve, reject) => {
    const socket: Socket = createConnection(path);
    socket.once('error', (e: NodeJS.ErrnoException) =>
      reject(Object.assign(new Error(`could not reach the Causeway service at ${path}: ${e.message}`), { code: e.code })),
    );
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      const channel = new HelperChannel(socket, socket);
      socket.on('close', () => channel.close('the Causeway service closed the connection'));
      resolve({
        channel,
        pid: null,
        via: 'socket',
        shutdown: async () => {
          channel.close('closed by Causeway');
          socket.end();
          socket.destroySoon();
        },
      });
    });
  });
}

/** `name`'s path on PATH, or null. */
function onPath(name: string, path: string | undefined): string | null {
  for (const dir of (path ?? '').split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * How a helper we spawn gets its privileges when nobody said: root needs nothing; anyone else
 * (no service socket, e.g. the AppImage) goes through pkexec when it is installed. Without
 * pkexec the helper starts unprivileged and fails with its own "permission denied".
 */
export function privilegeWrap(env: NodeJS.ProcessEnv, uid = process.getuid?.()): string[] {
  if (uid === undefined || uid === 0) return [];
  const pkexec = onPath('pkexec', env.PATH);
  return pkexec ? [pkexec] : [];
}

function spawnHelper(options: HelperOptions): Unshaken {
  const env = options.env ?? process.env;
  const helperPath = options.helperPath ?? locateHelper({ env });
  const [command, ...args] = [...(options.wrap ?? privilegeWrap(env, options.uid ?? process.getuid?.())), helperPath, '--stdio'];
  const child = spawn(command!, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const channel = new HelperChannel(child.stdout, child.stdin, { closeOnEnd: false });
  const lines = createInterface({ input: child.stderr });
  lines.on('line', (line) => options.onLog?.(line));
  let exited = false;
  child.on('error', (e) => channel.close(`could not start the helper (${helperPath}): ${e.message}`));
  child.on('close', (code, signal) => {
    exited = true;
    const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
    channel.close(channel.endReason(`the helper ${how}`));
  });
  return {
    channel,
    pid: child.pid ?? null,
    via: 'stdio',
    shutdown: () =>
      new Promise<void>((resolve) => {
        if (exited || child.exitCode !== null || child.pid === undefined) {
          channel.close('closed by Causeway');
          resolve();
          return;
        }
        // stdin EOF asks the helper to tear every session down and exit; give it time to
        // restore routes and DNS before insisting.
        const term = setTimeout(() => child.kill('SIGTERM'), 5_000);
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('close', () => {
          clearTimeout(term);
          clearTimeout(kill);
          resolve();
        });
        child.stdin.end();
      }),
  };
}

function handshake(channel: HelperChannel, options: HelperOptions): Promise<string> {
  const timeoutMs = options.handshakeTimeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`the helper did not say hello within ${timeoutMs} ms`)), timeoutMs);
    const stopMessages = channel.onMessage((m) => {
      if (m.type === 'log') {
        options.onLog?.(m.text);
        return;
      }
      if (m.type !== 'hello') return finish(new Error(`the helper sent ${m.type} before hello`));
      if (m.version !== PROTOCOL_VERSION) {
        return finish(new Error(`the helper speaks protocol ${m.version}, this Causeway speaks ${PROTOCOL_VERSION}; reinstall Causeway`));
      }
      finish(null, m.helper);
    });
    let stopClose = () => {};
    function finish(error: Error | null, version?: string) {
      clearTimeout(timer);
      stopMessages();
      stopClose();
      if (error) reject(error);
      else resolve(version!);
    }
    stopClose = channel.onClose((reason) => finish(new Error(`the helper is unavailable: ${reason}`)));
    if (channel.closed !== null) return;
    try {
      channel.send({ type: 'hello', version: PROTOCOL_VERSION, client: options.clientName ?? 'causeway 0.1.0' });
    } catch (e) {
      finish(e as Error);
    }
  });
}
