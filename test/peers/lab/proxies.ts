// Real proxies in the server namespace: Debian's squid (HTTP CONNECT, optionally Basic auth
// checked by its basic_ncsa_auth against an htpasswd file) and dante (SOCKS5 CONNECT and UDP
// ASSOCIATE, method none or username). Each runs in the foreground from a config written here, with its own pid and log
// files in the lab's folder; the system services of these packages are never touched.
//
// Dante's `username` method checks the system password database. `ip netns exec` bind-mounts
// /etc/netns/<ns>/* over /etc, so the test user lives in copies of passwd/shadow there, seen only
// by processes started in the lab's server namespace; stop() removes them.
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './exec.js';
import { LabProcess } from './process.js';

export interface ProxyUser {
  username: string;
  password: string;
}

export interface RunningProxy {
  address: string;
  port: number;
  process: LabProcess;
  stop(): Promise<void>;
}

const NCSA_AUTH = '/usr/lib/squid/basic_ncsa_auth';

/** Squid listening on address:port; with `user`, only that user (Basic auth) may CONNECT. */
export async function startSquid(netns: string, address: string, port: number, user: ProxyUser | null): Promise<RunningProxy> {
  // Squid drops to the `proxy` user, which cannot enter the lab's private folder: its logs, pid
  // and password file (a hash only) live in a folder of their own that user can write.
  const home = mkdtempSync(join(tmpdir(), `causeway-squid-${port}-`));
  chmodSync(home, 0o777);
  const lines = [
    `http_port ${address}:${port}`,
    `pid_filename ${join(home, 'squid.pid')}`,
    `cache_log ${join(home, 'cache.log')}`,
    `access_log stdio:${join(home, 'access.log')}`,
    // No ICMP pinger child: it would outlive squid's SIGTERM.
    'pinger_enable off',
    'cache deny all',
    'shutdown_lifetime 0 seconds',
  ];
  if (user) {
    const hash = (await run('openssl', ['passwd', '-apr1', user.password])).stdout.trim();
    const htpasswd = join(home, 'htpasswd');
    writeFileSync(htpasswd, `${user.username}:${hash}\n`, { mode: 0o644 });
    lines.push(`auth_param basic program ${NCSA_AUTH} ${htpasswd}`, 'auth_param basic realm causeway-lab', 'acl authed proxy_auth REQUIRED', 'http_access allow authed');
  } else {
    lines.push('http_access allow all');
  }
  lines.push('http_access deny all');
  const conf = join(home, 'squid.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  // -N: foreground, -d 1: log to stderr too (where the ready line is read).
  const child = spawn('ip', ['netns', 'exec', netns, 'squid', '-N', '-d', '1', '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new LabProcess(child, 'squid');
  const stop = async () => {
    await proc.stop();
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await proc.waitForLog('Accepting HTTP Socket connections', 20_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { address, port, process: proc, stop };
}

/** Dante listening on address:port; with `user`, SOCKS5 username/password (RFC 1929) for that user only. */
export async function startDante(netns: string, dir: string, address: string, port: number, user: ProxyUser | null): Promise<RunningProxy> {
  const home = join(dir, `dante-${port}`);
  mkdirSync(home, { recursive: true });
  const etc = join('/etc/netns', netns);
  const added: string[] = [];
  const madeEtc = user !== null && !existsSync(etc);
  if (user) {
    mkdirSync(etc, { recursive: true });
    for (const f of ['passwd', 'shadow']) {
      if (existsSync(join(etc, f))) throw new Error(`${join(etc, f)} exists already: one dante with users per lab`);
      copyFileSync(join('/etc', f), join(etc, f));
      added.push(join(etc, f));
    }
    const hash = (await run('openssl', ['passwd', '-6', user.password])).stdout.trim();
    writeFileSync(join(etc, 'passwd'), `${readFileSync(join(etc, 'passwd'), 'utf8')}${user.username}:x:64999:64999::/nonexistent:/usr/sbin/nologin\n`);
    writeFileSync(join(etc, 'shadow'), `${readFileSync(join(etc, 'shadow'), 'utf8')}${user.username}:${hash}:19000:0:99999:7:::\n`, { mode: 0o640 });
  }
  const conf = join(home, 'danted.conf');
  writeFileSync(
    conf,
    [
      'logoutput: stderr',
      `internal: ${address} port = ${port}`,
      `external: ${address}`,
      `socksmethod: ${user ? 'username' : 'none'}`,
      'clientmethod: none',
      'user.privileged: root',
      'user.unprivileged: nobody',
      'client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }',
      // CONNECT for TCP remotes, UDP ASSOCIATE (and the relayed replies) for UDP ones.
      'socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 command: connect udpassociate }',
      'socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 command: udpreply }',
      '',
    ].join('\n'),
  );
  const child = spawn('ip', ['netns', 'exec', netns, 'danted', '-f', conf, '-p', join(home, 'danted.pid'), '-N', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new LabProcess(child, 'danted');
  const cleanup = () => {
    for (const f of added) rmSync(f, { force: true });
    if (madeEtc) rmSync(etc, { recursive: true, force: true });
  };
  try {
    await proc.waitForLog(/Dante\/server\[\d+\/\d+\] v[\d.]+ running/, 20_000);
  } catch (e) {
    await proc.stop();
    cleanup();
    throw e;
  }
  return {
    address,
    port,
    process: proc,
    stop: async () => {
      await proc.stop();
      cleanup();
    },
  };
}
