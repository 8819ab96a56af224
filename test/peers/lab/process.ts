import type { ChildProcess } from 'node:child_process';

/** A long-running process the lab started (openvpn, a transfer peer…) and its output. */
export class LabProcess {
  private logText = '';
  private exited: Promise<number | null>;

  constructor(
    private readonly child: ChildProcess,
    readonly label: string,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.logText += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.logText += d.toString()));
    // 'close', not 'exit': by then the output is fully read.
    this.exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get log(): string {
    return this.logText;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the log contains `marker`; rejects if the process exits or time runs out. */
  async waitForLog(marker: string | RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const found = () => (typeof marker === 'string' ? this.logText.includes(marker) : marker.test(this.logText));
    while (!found()) {
      if (!this.running) throw new Error(`${this.label} exited before "${marker}":\n${this.logText}`);
      if (Date.now() > deadline) throw new Error(`${this.label} did not log "${marker}" within ${timeoutMs} ms:\n${this.logText}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

