// Text that arrives in chunks (a socket, a child's stdout) handed on one complete line at a time.

export class LineSplitter {
  private rest = '';

  /** `onLine` gets each line without its `\n` (or `\r\n`). */
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string | Buffer): void {
    this.rest += chunk.toString();
    let nl: number;
    while ((nl = this.rest.indexOf('\n')) >= 0) {
      const line = this.rest.slice(0, nl).replace(/\r$/, '');
      this.rest = this.rest.slice(nl + 1);
      this.onLine(line);
    }
  }
}
