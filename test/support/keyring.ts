// A real, private Secret Service for tests: a dbus-daemon on its own socket (no service
// activation, so nothing outside this helper is ever started) and gnome-keyring-daemon's secrets
// component with a fresh login keyring unlocked by a password given on stdin. Everything lives in
// a temporary directory and both daemons are stopped by PID in stop().
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { probeSecretService } from '../../main/secrets/secret-service-store.js';

export interface TestKeyring {
  /** Environment that points secret-tool (and so the SecretServiceStore) at this keyring. */
  env: NodeJS.ProcessEnv;
  /** The keyring's unlock password, so tests can add it to test-results/secrets.txt. */
  password: string;
  stop(): Promise<void>;
}

function busConfig(socketPath: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socketPath}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startTestKeyring(): Promise<TestKeyring> {
  const dir = mkdtempSync(join(tmpdir(), 'causeway-keyring-'));
  const runtimeDir = join(dir, 'run');
  mkdirSync(runtimeDir, { mode: 0o700 });
  const socketPath = join(dir, 'bus');
  const configPath = join(dir, 'bus.conf');
  writeFileSync(configPath, busConfig(socketPath));
  const password = randomBytes(12).toString('hex');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_RUNTIME_DIR: runtimeDir,
    DBUS_SESSION_BUS_ADDRESS: `unix:path=${socketPath}`,
  };
  delete env.DISPLAY;

  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children.reverse()) await stopChild(c);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const bus = spawn('dbus-daemon', ['--nofork', `--config-file=${configPath}`], { env, stdio: 'ignore' });
    children.push(bus);
    await waitFor(async () => existsSync(socketPath), 'dbus-daemon socket');

    const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
      env,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    children.push(keyring);
    keyring.stdin?.end(password);
    await waitFor(async () => (await probeSecretService(env)) === null, 'gnome-keyring Secret Service');
  } catch (e) {
    await stop();
    throw e;
  }
  return { env, password, stop };
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}
