// Running commands for the lab: on the host or inside one of its network namespaces.
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Reject unless the command exits 0 (default true). */
  check?: boolean;
  timeoutMs?: number;
  input?: string | Buffer;
}

/** Runs a command to completion and collects its output. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const { check = true, timeoutMs = 60_000 } = opts;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const result = { code, stdout, stderr };
      if (check && code !== 0) {
        const why = signal ? `killed by ${signal}` : `exit ${code}`;
        reject(new Error(`${cmd} ${args.join(' ')}: ${why}\n${stderr.trim()}`));
      } else resolve(result);
    });
    if (child.stdin) {
      // A command that exits without reading its input must not crash the test with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** The argv that runs `cmd args` inside network namespace `ns`. */
export function inNetns(ns: string, cmd: string, args: string[]): [string, string[]] {
  return ['ip', ['netns', 'exec', ns, cmd, ...args]];
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
