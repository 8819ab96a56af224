// A user running the real `causeway` CLI (bin/causeway.cjs) for the SSO suites. Unlike the lab's
// plain-login suites, the CLI runs in the test's own namespace, next to the browser and the IdPs
// on 127.0.0.1 (as on a laptop), and only the helper runs in the lab's client namespace
// (CAUSEWAY_HELPER_WRAP). The browser is reached through $BROWSER, the convention the CLI honours:
// a tiny script forwards each URL to this process, where Chromium opens it.
//
// Every CLI output and session log is kept under test-results/<suite>/ for the secret scan.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLI_PATH, runCli, stopCli, stopConnects, type CliResult } from '../../support/run-cli.js';
import { LineSplitter } from '../lab/lines.js';

const repo = resolve(import.meta.dirname, '..', '..', '..');
export const HELPER_PATH = join(repo, 'native', 'target', 'release', 'causeway-helper');

export interface CliEvent {
  event: string;
  [k: string]: unknown;
}

/** Receives the URLs the CLI opens via $BROWSER. */
async function startBrowserSink(dir: string, onUrl: (url: string) => void): Promise<{ browserVar: string; close(): void }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      res.end('ok');
      onUrl(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const script = join(dir, 'browser.sh');
  writeFileSync(
    script,
    `#!/bin/sh\nexec "${process.execPath}" -e 'fetch(process.argv[1], { method: "POST", body: process.argv[2] }).catch(() => process.exit(1))' "http://127.0.0.1:${port}/" "$1"\n`,
    { mode: 0o755 },
  );
  return {
    browserVar: script,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

export class CliUser {
  readonly env: NodeJS.ProcessEnv;
  private readonly running = new Set<ConnectRun>();

  private constructor(
    readonly home: string,
    readonly results: string,
    env: NodeJS.ProcessEnv,
    private readonly sink: { close(): void },
  ) {
    this.env = env;
  }

  /**
   * A fresh user. `helperNetns` is the lab's client namespace; `openUrl` gets every URL the CLI
   * asks the browser to open.
   */
  static async create(options: {
    suite: string;
    helperNetns: string;
    openUrl: (url: string) => void;
    env?: NodeJS.ProcessEnv;
  }): Promise<CliUser> {
    if (!existsSync(HELPER_PATH)) throw new Error(`${HELPER_PATH} is missing: run npm run build:native`);
    if (!existsSync(join(repo, 'dist', 'cli', 'causeway.cjs'))) throw new Error('dist/cli/causeway.cjs is missing: run node scripts/build.mjs');
    const results = join(repo, 'test-results', options.suite);
    rmSync(results, { recursive: true, force: true });
    mkdirSync(results, { recursive: true });
    const home = mkdtempSync(join(tmpdir(), `cw-${options.suite}-`));
    mkdirSync(join(home, 'run'), { mode: 0o700 });
    const sink = await startBrowserSink(home, options.openUrl);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'cfg'),
      XDG_RUNTIME_DIR: join(home, 'run'),
      CAUSEWAY_HELPER: HELPER_PATH,
      CAUSEWAY_HELPER_WRAP: `ip netns exec ${options.helperNetns}`,
      BROWSER: sink.browserVar,
      ...options.env,
    };
    return new CliUser(home, results, env, sink);
  }

  /** Runs a CLI command to completion. */
  cli(args: string[], input = ''): Promise<CliResult> {
    return runCli(args, { env: this.env, input, timeoutMs: 120_000, log: join(this.results, 'cli-commands.log') });
  }

  /** Imports profile text under `name`; throws with the CLI's reasons when refused. */
  async importProfile(name: string, text: string, extraArgs: string[] = []): Promise<void> {
    const file = join(this.home, `${name}.ovpn`);
    writeFileSync(file, text);
    const r = await this.cli(['import', file, '--name', name, ...extraArgs]);
    if (r.code !== 0) throw new Error(`import ${name} failed: ${r.stderr}`);
  }

  /** `causeway connect <profile> --json-events` in the foreground. */
  connect(profile: string, extraArgs: string[] = []): ConnectRun {
    const run = new ConnectRun(this, profile, extraArgs);
    this.running.add(run);
    return run;
  }

  /** Stops every connect still running (afterEach). */
  stopAll(): Promise<void> {
    return stopConnects(this.running);
  }

  /** Keeps the session logs for the secret scan and removes the user's files. */
  async close(): Promise<void> {
    await this.stopAll();
    this.sink.close();
    const logs = join(this.home, '.local', 'state', 'causeway', 'logs');
    if (existsSync(logs)) for (const f of readdirSync(logs)) copyFileSync(join(logs, f), join(this.results, `log-${f}`));
    rmSync(this.home, { recursive: true, force: true });
  }
}

export class ConnectRun {
  readonly events: CliEvent[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private waiters: (() => void)[] = [];
  stderr = '';

  constructor(
    user: CliUser,
    readonly profile: string,
    extraArgs: string[],
  ) {
    this.child = spawn(process.execPath, [CLI_PATH, 'connect', profile, '--json-events', ...extraArgs], {
      env: user.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const base = join(user.results, `connect-${profile}-${process.hrtime.bigint()}`);
    const lines = new LineSplitter((line) => {
      appendFileSync(`${base}.jsonl`, `${line}\n`);
      try {
        this.events.push(JSON.parse(line) as CliEvent);
      } catch {
        this.events.push({ event: 'unparsed', line });
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stdout!.on('data', (d: Buffer) => lines.push(d));
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      appendFileSync(`${base}.stderr`, d);
    });
    this.exited = new Promise((r) => this.child.on('close', (code) => r(code)));
    this.child.stdin!.on('error', () => undefined);
  }

  /** Types a line on the CLI's terminal (answers a prompt). */
  answer(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  states(): CliEvent[] {
    return this.events.filter((e) => e.event === 'state');
  }

  async waitFor(match: (e: CliEvent) => boolean, timeoutMs = 60_000): Promise<CliEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `no matching event within ${timeoutMs} ms; states: ${this.states()
            .map((e) => `${String(e.phase)}(${String(e.text)})`)
            .join(' → ')}; stderr: ${this.stderr.slice(-1500)}`,
        );
      }
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), new Promise((r) => setTimeout(r, 250))]);
    }
  }

  waitForPhase(phase: string, timeoutMs = 60_000): Promise<CliEvent> {
    return this.waitFor((e) => e.event === 'state' && e.phase === phase, timeoutMs);
  }

  /** SIGTERM (clean disconnect), SIGKILL if it hangs. */
  stop(): Promise<number | null> {
    return stopCli(this.child, this.exited);
  }
}
