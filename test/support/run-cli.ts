// Runs a command of the built CLI (bin/causeway.cjs) to completion, as a user types it, and
// appends what it printed to a log under test-results/ (where the secret scan reads it).
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach } from 'vitest';

export const CLI_PATH = join(resolve(import.meta.dirname, '..', '..'), 'bin', 'causeway.cjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** How long the command took. */
  ms: number;
}

export interface RunCliOptions {
  env: NodeJS.ProcessEnv;
  /** The log the command and its output are appended to. */
  log: string;
  /** What the user types (stdin). */
  input?: string;
  /** Killed (SIGKILL) after this long. */
  timeoutMs?: number;
}

export function runCli(args: string[], { env, log, input = '', timeoutMs = 60_000 }: RunCliOptions): Promise<CliResult> {
  const t0 = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      appendFileSync(log, `$ causeway ${args.join(' ')}\n${stdout}${stderr}(exit ${code})\n`);
      done({ code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/**
 * Ends a running CLI command the way a user does (SIGTERM, the clean disconnect of Ctrl-C),
 * with SIGKILL only if it has not exited after `graceMs`; resolves to its exit code.
 */
export async function stopCli(child: ChildProcess, exited: Promise<number | null>, graceMs = 15_000): Promise<number | null> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
  return exited;
}

/** Stops every connect in `running`: the connects a test left running (so a failed test leaves no tunnel up for the next). */
export async function stopConnects(running: Set<{ stop(): Promise<unknown> }>): Promise<void> {
  await Promise.all([...running].map((c) => c.stop()));
  running.clear();
}

/** Registers stopConnects(running) after each test of the file. */
export function stopLeftoverConnects(running: Set<{ stop(): Promise<unknown> }>): void {
  afterEach(() => stopConnects(running), 30_000);
}
