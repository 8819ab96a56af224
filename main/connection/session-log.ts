// The per-profile connection log: every line is redacted before it is kept, shown, or written.
// Lines go to memory (for the UI) and, when a directory is given, to <dir>/<profileId>.log
// (mode 0600, rotated to .log.1 past MAX_LOG_BYTES) so `causeway logs <profile>` in another
// process can read what a `causeway connect` process did.
import { appendFileSync, chmodSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Redactor } from './redact.js';

export const MAX_LOG_BYTES = 1024 * 1024;
const MEMORY_LINES = 2000;

/** $XDG_STATE_HOME/causeway/logs (Linux), the platform's usual place elsewhere. */
export function logDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.CAUSEWAY_LOG_DIR) return env.CAUSEWAY_LOG_DIR;
  const home = env.HOME || homedir();
  if (platform === 'darwin') return join(home, 'Library', 'Logs', 'Causeway');
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'Causeway', 'logs');
  return join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'causeway', 'logs');
}

export function logFile(dir: string, profileId: string): string {
  return join(dir, `${profileId}.log`);
}

export class SessionLog {
  private readonly memory: string[] = [];

  constructor(
    private readonly redactor: Redactor,
    private readonly file: string | null,
    private readonly now: () => number = Date.now,
  ) {}

  /** Redacts, timestamps and records one line; returns what was recorded. */
  write(source: 'causeway' | 'helper', level: string, text: string): string {
    const line = `${new Date(this.now()).toISOString()} ${source} ${level}: ${this.redactor.redact(text)}`;
    this.memory.push(line);
    if (this.memory.length > MEMORY_LINES) this.memory.shift();
    if (this.file) this.append(this.file, line);
    return line;
  }

  lines(): string[] {
    return [...this.memory];
  }

  private append(file: string, line: string): void {
    try {
      mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
      try {
        if (statSync(file).size > MAX_LOG_BYTES) renameSync(file, `${file}.1`);
      } catch {
        // no file yet
      }
      appendFileSync(file, `${line}\n`, { mode: 0o600 });
      chmodSync(file, 0o600);
    } catch {
      // A log that cannot be written must not take the connection down; memory still has it.
    }
  }
}

/** The stored log of a profile, oldest first (the rotated file, then the current one). */
export function readProfileLog(dir: string, profileId: string): string[] {
  const file = logFile(dir, profileId);
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  return [...read(`${file}.1`), ...read(file)];
}
