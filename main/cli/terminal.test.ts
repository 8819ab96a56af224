import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { TerminalInput, TerminalPrompter } from './terminal.js';
import type { CredentialsPrompt } from '../connection/prompter.js';

function pipedInput(lines: string[]) {
  const input = new PassThrough() as unknown as NodeJS.ReadStream;
  (input as unknown as PassThrough).end(lines.map((l) => `${l}\n`).join(''));
  let written = '';
  return { terminal: new TerminalInput(input, (t) => (written += t)), output: () => written };
}

const base: CredentialsPrompt = {
  kind: 'credentials',
  id: 'p1',
  sessionId: 's',
  profileId: 'corp',
  profileName: 'Corp',
  username: null,
  askPassword: true,
  challenge: null,
  canRemember: true,
  retryReason: null,
  timeoutMs: 1000,
};

describe('TerminalPrompter over piped stdin', () => {
  it('asks username, password, the static challenge and "remember", never writing the secrets back', async () => {
    const { terminal, output } = pipedInput(['alice', 's3cret-pw', '654321', 'y']);
    const answer = await new TerminalPrompter(terminal).ask({ ...base, challenge: { text: 'Enter OTP', echo: false } }, new AbortController().signal);
    expect(answer).toEqual({ kind: 'credentials', username: 'alice', password: 's3cret-pw', response: '654321', remember: true });
    expect(output()).toBe('Username: \nPassword: \nEnter OTP: \nRemember the password? [y/N]: \n');
    terminal.close();
  });

  it('keeps a known username, skips the password when a saved one is used, and explains a retry', async () => {
    const { terminal, output } = pipedInput(['', 'new-pw']);
    const answer = await new TerminalPrompter(terminal).ask(
      { ...base, username: 'bob', canRemember: false, retryReason: 'The server rejected the credentials (AUTH_FAILED).' },
      new AbortController().signal,
    );
    expect(answer).toMatchObject({ username: 'bob', password: 'new-pw', remember: false });
    expect(output()).toMatch(/^The server rejected the credentials \(AUTH_FAILED\)\. Try again\.\nUsername \[bob\]: /);
    const { terminal: t2 } = pipedInput(['9999']);
    const challenge = await new TerminalPrompter(t2).ask(
      { kind: 'challenge', id: 'c', sessionId: 's', profileId: 'p', profileName: 'P', text: 'Enter PIN', echo: true, timeoutMs: 1000 },
      new AbortController().signal,
    );
    expect(challenge).toEqual({ kind: 'challenge', response: '9999' });
  });

  it('takes the default of an optional question when input ends there', async () => {
    // A script gives the username and password and nothing for "remember?" (the default: no).
    const { terminal, output } = pipedInput(['alice', 'pw-from-a-script']);
    const answer = await new TerminalPrompter(terminal).ask(base, new AbortController().signal);
    expect(answer).toEqual({ kind: 'credentials', username: 'alice', password: 'pw-from-a-script', response: null, remember: false });
    expect(output()).toMatch(/Remember the password\? \[y\/N\]: $/);
    // A prefilled username is a default too: an empty line keeps it.
    const both = pipedInput(['', 'pw']);
    expect(await new TerminalPrompter(both.terminal).ask({ ...base, username: 'bob', retryReason: 'Rejected.' }, new AbortController().signal)).toMatchObject({
      username: 'bob',
      password: 'pw',
      remember: false,
    });
  });

  it('returns null when input ends or the prompt is aborted', async () => {
    const { terminal } = pipedInput([]);
    expect(await new TerminalPrompter(terminal).ask(base, new AbortController().signal)).toBeNull();
    const input = new PassThrough() as unknown as NodeJS.ReadStream;
    const open = new TerminalInput(input, () => undefined);
    const controller = new AbortController();
    const pending = open.question('Password: ', { secret: true, signal: controller.signal });
    controller.abort();
    expect(await pending).toBeNull();
    open.close();
  });
});
