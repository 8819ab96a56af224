import { describe, expect, it } from 'vitest';
import { askWithDeadline } from './ask.js';
import type { ChallengePrompt, Prompter } from './prompter.js';

const request: ChallengePrompt = { kind: 'challenge', id: 'q', sessionId: 's', profileId: 'p', profileName: 'P', text: 'PIN', echo: true, timeoutMs: 50 };
const never: Prompter = { ask: () => new Promise(() => {}) }; // ignores its signal on purpose

describe('askWithDeadline', () => {
  it('returns the answer', async () => {
    const prompter: Prompter = { ask: async () => ({ kind: 'challenge', response: '1' }) };
    expect(await askWithDeadline(prompter, request, new AbortController().signal)).toEqual({ kind: 'answered', answer: { kind: 'challenge', response: '1' } });
  });

  it('times out even when the prompter ignores its signal', async () => {
    expect(await askWithDeadline(never, request, new AbortController().signal)).toEqual({ kind: 'timeout', detail: 'no answer within 0 s' });
  });

  it('reports a cancel (null answer) and a failing prompter as cancelled', async () => {
    expect(await askWithDeadline({ ask: async () => null }, request, new AbortController().signal)).toMatchObject({ kind: 'cancelled' });
    const broken: Prompter = { ask: async () => { throw new Error('window closed'); } };
    expect(await askWithDeadline(broken, request, new AbortController().signal)).toEqual({ kind: 'cancelled', detail: 'window closed' });
  });

  it('reports that the session ended, and tells the prompter to stop', async () => {
    const ended = new AbortController();
    let stopped = false;
    const watching: Prompter = { ask: (_r, signal) => new Promise((resolve) => signal.addEventListener('abort', () => ((stopped = true), resolve(null)))) };
    const pending = askWithDeadline(watching, { ...request, timeoutMs: 10_000 }, ended.signal);
    ended.abort();
    expect(await pending).toEqual({ kind: 'ended' });
    expect(stopped).toBe(true);
  });
});
