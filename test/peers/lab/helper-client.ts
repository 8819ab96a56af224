// A tiny client for `causeway-helper --stdio`: spawns it (inside a network namespace), speaks
// the framed protocol with the app's own codec and validator, and lets tests wait for messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FrameDecoder, encodeFrame } from '../../../app/helper-protocol/codec.js';
import type {
  ClientMessage,
  EngineConfig,
  HelperMessage,
  SessionPhase,
} from '../../../app/helper-protocol/messages.js';
import { PROTOCOL_VERSION } from '../../../app/helper-protocol/messages.js';
import { parseClientMessage, parseHelperMessage } from '../../../app/helper-protocol/validate.js';

const repoRoot = join(import.meta.dirname, '../../..');

/** The release helper `npm test` builds, unless CAUSEWAY_HELPER_BIN points elsewhere. */
export function helperBinary(): string {
  const path = process.env.CAUSEWAY_HELPER_BIN ?? join(repoRoot, 'native/target/release/causeway-helper');
  if (!existsSync(path)) throw new Error(`causeway-helper not found at ${path}; run cargo build --release in native/`);
  return path;
}

export type StateMessage = Extract<HelperMessage, { type: 'state' }>;

interface Waiter {
  match: (m: HelperMessage) => boolean;
  resolve: (m: HelperMessage) => void;
}

export class HelperClient {
  /** Every validated message the helper sent, in order. */
  readonly messages: HelperMessage[] = [];
  /** The helper's stderr (its diagnostics). */
  stderr = '';
  /** Protocol violations by the helper (invalid frames or messages); tests assert it stays empty. */
  readonly violations: string[] = [];
  private waiters: Waiter[] = [];
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined = undefined;

  private constructor(private readonly child: ChildProcess) {
    const decoder = new FrameDecoder();
    child.stdout!.on('data', (chunk: Buffer) => {
      let values: unknown[];
      try {
        values = decoder.push(chunk);
      } catch (e) {
        this.violations.push(String(e));
        return;
      }
      for (const value of values) {
        try {
          this.receive(parseHelperMessage(value));
        } catch (e) {
          this.violations.push(`${String(e)} in ${JSON.stringify(value).slice(0, 200)}`);
        }
      }
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      // 'close', not 'exit': by then stdout and stderr are fully read.
      child.on('close', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(code);
      }),
    );
  }

  /**
   * Spawns the helper (in `netns` when given) and completes the hello handshake. `prefix` runs
   * before everything, e.g. `nsenter -t <pid> -m` to start it in a test's own mount namespace.
   */
  static async start(opts: { netns?: string; env?: NodeJS.ProcessEnv; prefix?: string[] } = {}): Promise<HelperClient> {
    const bin = helperBinary();
    const argv = [...(opts.prefix ?? []), ...(opts.netns ? ['ip', 'netns', 'exec', opts.netns] : []), bin, '--stdio'];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    const client = new HelperClient(child);
    client.send({ type: 'hello', version: PROTOCOL_VERSION, client: 'causeway-lab' });
    await client.waitFor((m) => m.type === 'hello', 10_000);
    return client;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Sends a message (validated first, like main does). */
  send(message: ClientMessage): void {
    this.sendRaw(encodeFrame(parseClientMessage(message)));
  }

  /** Sends arbitrary bytes, for tests of the helper's handling of bad input. */
  sendRaw(bytes: Buffer): void {
    this.child.stdin!.write(bytes);
  }

  connect(session: string, config: EngineConfig): void {
    this.send({ type: 'connect', session, config });
  }

  disconnect(session: string): void {
    this.send({ type: 'disconnect', session });
  }

  private receive(m: HelperMessage): void {
    this.messages.push(m);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(m)) return true;
      w.resolve(m);
      return false;
    });
  }

  /** The first message (already received or future) that matches; rejects on timeout or exit. */
  waitFor(match: (m: HelperMessage) => boolean, timeoutMs: number, since = 0): Promise<HelperMessage> {
    const earlier = this.messages.slice(since).find(match);
    if (earlier) return Promise.resolve(earlier);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching helper message within ${timeoutMs} ms; got:\n${this.transcript()}`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.waiters.push(waiter);
      void this.exited.then(() => {
        if (!this.waiters.includes(waiter)) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`helper exited (${this.exitCode}) while waiting; got:\n${this.transcript()}\n${this.stderr}`));
      });
    });
  }

  /**
   * Waits until `session` reaches `phase`. Reaching 'failed' (or 'disconnected') instead
   * rejects with the helper's error, so a broken connect fails fast and says why.
   */
  async waitForPhase(session: string, phase: SessionPhase, timeoutMs: number): Promise<StateMessage> {
    const terminal: SessionPhase[] = ['failed', 'disconnected'];
    const m = (await this.waitFor(
      (x) => x.type === 'state' && x.session === session && (x.phase === phase || terminal.includes(x.phase)),
      timeoutMs,
    )) as StateMessage;
    if (m.phase !== phase) {
      throw new Error(`session ${session} ended ${m.phase} (${m.error?.code}: ${m.error?.message}) instead of ${phase}`);
    }
    return m;
  }

  /** Waits until the helper's stderr matches (stderr and stdout arrive on separate pipes, so
   *  a diagnostic written before a message may still be in flight when the message is here). */
  async waitForStderr(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.stderr)) {
      if (Date.now() > deadline) throw new Error(`helper stderr did not match ${pattern} within ${timeoutMs} ms:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The settings pushed for `session` (the last `pushed` message). */
  pushed(session: string): Extract<HelperMessage, { type: 'pushed' }>['settings'] | undefined {
    const all = this.messages.filter((m) => m.type === 'pushed' && m.session === session);
    const last = all[all.length - 1];
    return last?.type === 'pushed' ? last.settings : undefined;
  }

  /** A short, secret-free rendering of the conversation for assertion messages. */
  transcript(): string {
    return this.messages
      .filter((m) => m.type !== 'stats')
      .map((m) => JSON.stringify(m))
      .join('\n')
      .slice(-6000);
  }

  /** Closes stdin (the helper disconnects everything and exits) and waits for the exit code. */
  async close(timeoutMs = 15_000): Promise<number | null> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  waitForExit(): Promise<number | null> {
    return this.exited;
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }
}
