// Who listens on a TCP port, in the host's network namespace and in this process's own. Files run
// by ./own-netns-pool.ts get the host's namespace in CAUSEWAY_HOST_NETNS; elsewhere this process
// is in the host's namespace. `ss` reads the kernel's socket table, so it sees listeners of every
// process (the CLI, Chromium, other suites), not only ours.
import { execFileSync } from 'node:child_process';
import { HOST_NETNS_ENV } from './own-netns-pool.js';

/** Local addresses of TCP listeners on `port` that would keep 127.0.0.1:`port` from binding. */
function listenersIn(netns: string | undefined, port: number): string[] {
  const ss = ['ss', '-ltnH', `sport = :${port}`];
  const cmd = netns ? ['nsenter', `--net=${netns}`, ...ss] : ss;
  const out = execFileSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[3] ?? '')
    .filter((local) => /^(127\.0\.0\.1|0\.0\.0\.0|\*|\[::\]|\[::ffff:127\.0\.0\.1\]):\d+$/.test(local));
}

/** Listeners on `port` in the host's network namespace. */
export const hostListeners = (port: number): string[] => listenersIn(process.env[HOST_NETNS_ENV], port);

/** Listeners on `port` in this process's network namespace. */
export const ownListeners = (port: number): string[] => listenersIn(undefined, port);

/** True when this process runs in a network namespace of its own (./own-netns-pool.ts). */
export const inOwnNetns = (): boolean => process.env[HOST_NETNS_ENV] !== undefined;

/**
 * Where `port` is listened on while a test's listener is up: in this file's own namespace, and
 * (what must stay empty) in the host's. Own-netns files expect `{ ownNetns: true, own: ['127.0.0.1:<port>'], host: [] }`.
 */
export const portPlacement = (port: number) => ({ ownNetns: inOwnNetns(), own: ownListeners(port), host: hostListeners(port) });
