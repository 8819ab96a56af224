// Questions on the terminal for the CLI: credentials, MFA codes, challenge answers, proxy
// passwords, PKCS#12 passwords. On a TTY secrets are read in raw mode and never echoed; without a TTY (scripts,
// tests) answers are read line by line from stdin, and nothing typed is ever written back.
import { createInterface, type Interface } from 'node:readline';
import type { PromptAnswer, Prompter, PromptRequest, ProxyPasswordPrompt } from '../connection/prompter.js';

export class TerminalInput {
  private lines: Interface | null = null;
  private readonly queued: string[] = [];
  private waiting: ((line: string | null) => void) | null = null;
  private ended = false;
  /** Set while the line reader is closed on purpose (to read a secret in raw mode). */
  private detaching = false;

  constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly write: (text: string) => void,
  ) {}

  /** Asks one question; null when input ended or `signal` aborted. */
  async question(prompt: string, options: { secret?: boolean; signal?: AbortSignal } = {}): Promise<string | null> {
    this.write(prompt);
    if (this.input.isTTY && options.secret) return this.readHidden(options.signal);
    const line = await this.readLine(options.signal);
    // Piped answers are not echoed by a terminal: end the question's line ourselves.
    if (!this.input.isTTY && line !== null) this.write('\n');
    return line;
  }

  /** Writes a line of explanation before a question. */
  say(text: string): void {
    this.write(text);
  }

  /** Stops reading so the process can exit. */
  close(): void {
    this.lines?.close();
    this.lines = null;
  }

  private readLine(signal?: AbortSignal): Promise<string | null> {
    if (!this.lines) {
      this.lines = createInterface({ input: this.input, terminal: false });
      this.lines.on('line', (line) => {
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = null;
          w(line);
        } else this.queued.push(line);
      });
      this.lines.on('close', () => {
        if (this.detaching) return;
        this.ended = true;
        this.waiting?.(null);
        this.waiting = null;
      });
    }
    if (this.queued.length) return Promise.resolve(this.queued.shift()!);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waiting = null;
        this.write('\n');
        resolve(null);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting = (line) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(line);
      };
    });
  }

  private readHidden(signal?: AbortSignal): Promise<string | null> {
    const input = this.input;
    // The line reader must not see the secret's keystrokes (it would take them as the next answer).
    if (this.lines) {
      this.detaching = true;
      this.lines.close();
      this.lines = null;
      this.detaching = false;
    }
    return new Promise((resolve) => {
      let value = '';
      const finish = (result: string | null) => {
        input.removeListener('data', onData);
        signal?.removeEventListener('abort', onAbort);
        input.setRawMode(false);
        input.pause();
        this.write('\n');
        resolve(result);
      };
      const onAbort = () => finish(null);
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return finish(value);
          if (ch === '\u0003' || ch === '\u0004') return finish(null); // Ctrl-C, Ctrl-D
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else if (ch >= ' ') value += ch;
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      input.setRawMode(true);
      input.resume();
      input.on('data', onData);
    });
  }
}

/** The CLI's Prompter: asks on the terminal, in the order a user expects. */
export class TerminalPrompter implements Prompter {
  constructor(private readonly terminal: TerminalInput) {}

  async ask(request: PromptRequest, signal: AbortSignal): Promise<PromptAnswer | null> {
    const q = (text: string, secret: boolean) => this.terminal.question(text, { secret, signal });
    if (request.kind === 'challenge') {
      const response = await q(`${request.text}: `, !request.echo);
      return response === null ? null : { kind: 'challenge', response };
    }
    if (request.kind === 'proxy-password') return this.askProxy(request, q, signal);
    if (request.retryReason) this.terminal.say(`${request.retryReason} Try again.\n`);
    // A question with a default is optional: end of input (a script that gave only the answers it
    // needed) takes the default, an empty line too. Questions without one cancel at end of input.
    let username = request.username;
    if (username === null || request.retryReason) {
      const typed = await q(`Username${username ? ` [${username}]` : ''}: `, false);
      if (typed === null && (username === null || signal.aborted)) return null;
      username = typed?.trim() || username;
      if (!username) return null;
    }
    let password = '';
    if (request.askPassword) {
      const typed = await q('Password: ', true);
      if (typed === null) return null;
      password = typed;
    }
    let response: string | null = null;
    if (request.challenge) {
      response = await q(`${request.challenge.text}: `, !request.challenge.echo);
      if (response === null) return null;
    }
    let remember = false;
    if (request.canRemember && request.askPassword) {
      const answer = await q('Remember the password? [y/N]: ', false);
      if (answer === null && signal.aborted) return null;
      remember = answer !== null && /^y(es)?$/i.test(answer.trim());
    }
    return { kind: 'credentials', username, password, response, remember };
  }

  /** The proxy's username and password, then whether to keep them (optional: no by default). */
  private async askProxy(
    request: ProxyPasswordPrompt,
    q: (text: string, secret: boolean) => Promise<string | null>,
    signal: AbortSignal,
  ): Promise<PromptAnswer | null> {
    this.terminal.say(`The proxy ${request.proxy} needs a username and password.\n`);
    const typed = await q(`Proxy username${request.username ? ` [${request.username}]` : ''}: `, false);
    if (typed === null && (request.username === null || signal.aborted)) return null;
    const username = typed?.trim() || request.username;
    if (!username) return null;
    const password = await q('Proxy password: ', true);
    if (password === null) return null;
    let remember = false;
    if (request.canRemember) {
      const answer = await q('Remember the proxy password? [y/N]: ', false);
      if (answer === null && signal.aborted) return null;
      remember = answer !== null && /^y(es)?$/i.test(answer.trim());
    }
    return { kind: 'proxy-password', username, password, remember };
  }
}
