// A vitest pool whose workers each start in a network namespace of their own (`unshare --net`,
// loopback up, hence root). Test files that must use a fixed, well-known port — the AWS SAML ACS on
// 127.0.0.1:35001, the port the real AWS VPN Client uses on a user's machine — run here, so the
// port they bind, and everything they start (CLI, helper wrapper, Chromium, the IdP), never touches
// the host's. Files reach the namespace lab as usual (`ip netns exec` by name, unix sockets by
// path); the host's namespace is named by CAUSEWAY_HOST_NETNS for checks (./host-netns.ts).
//
// Same IPC as vitest's own `forks` pool; only the executable differs: `unshare` then `sh` exec the
// node worker, so the IPC channel fd node's fork() passes stays open.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { PoolOptions, PoolRunnerInitializer, PoolWorker, WorkerRequest } from 'vitest/node';

export const HOST_NETNS_ENV = 'CAUSEWAY_HOST_NETNS';

class OwnNetnsWorker implements PoolWorker {
  readonly name = 'own-netns';
  private child: ChildProcess | undefined;

  constructor(private readonly options: PoolOptions) {}

  private get process(): ChildProcess {
    if (!this.child) throw new Error('own-netns worker used before start() or after stop()');
    return this.child;
  }

  on(event: string, callback: (arg: unknown) => void): void {
    this.process.on(event, callback);
  }

  off(event: string, callback: (arg: unknown) => void): void {
    this.process.off(event, callback);
  }

  send(message: WorkerRequest): void {
    this.process.send(message);
  }

  deserialize(data: unknown): unknown {
    return data;
  }

  async start(): Promise<void> {
    if (this.child) return;
    const { distPath, env, execArgv, project } = this.options;
    const child = fork(join(distPath, 'workers/forks.js'), [], {
      execPath: 'unshare',
      execArgv: ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, ...execArgv],
      env: { ...env, [HOST_NETNS_ENV]: `/proc/${process.pid}/ns/net` },
      stdio: 'pipe',
      serialization: 'advanced',
    });
    child.stdout?.pipe(project.vitest.logger.outputStream, { end: false });
    child.stderr?.pipe(project.vitest.logger.errorStream, { end: false });
    this.child = child;
  }

  async stop(): Promise<void> {
    const child = this.process;
    const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
    // A worker that ignores SIGTERM is killed, as vitest's own pool does.
    const kill = setTimeout(() => child.kill('SIGKILL'), 500);
    child.kill();
    await exited;
    clearTimeout(kill);
    child.stdout?.unpipe();
    child.stderr?.unpipe();
    this.child = undefined;
  }
}

export const ownNetnsPool: PoolRunnerInitializer = {
  name: 'own-netns',
  createPoolWorker: (options) => new OwnNetnsWorker(options),
};
