// A running `causeway connect --json-events`: its events as they arrive, its stderr, its exit,
// and waiting for an event (with everything seen so far in the error when it never comes).
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { LineSplitter, sleep } from '../peers/lab/index.js';

export interface CliEvent {
  event: string;
  phase?: string;
  [k: string]: unknown;
}

export class JsonEvents {
  readonly events: CliEvent[] = [];
  stderr = '';
  /** The exit code once the process has closed. */
  readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcessWithoutNullStreams,
    /** More to put in a timeout's error (e.g. the service's log). */
    private readonly context: () => string = () => '',
  ) {
    const lines = new LineSplitter((line) => this.events.push(JSON.parse(line) as CliEvent));
    child.stdout.on('data', (d: Buffer) => lines.push(d));
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.on('close', resolve));
  }

  async waitFor(match: (e: CliEvent) => boolean, timeoutMs = 30_000): Promise<CliEvent> {
    const deadline = Date.now() + timeoutMs;
    while (!this.events.some(match)) {
      if (Date.now() > deadline) throw new Error(`no such event; got ${JSON.stringify(this.events)}; stderr: ${this.stderr}${this.context()}`);
      await sleep(100);
    }
    return this.events.find(match)!;
  }
}
