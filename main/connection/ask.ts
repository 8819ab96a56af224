// Asking the user one question with a deadline: runs the Prompter, and turns every way the
// question can end — answered, cancelled, timed out, the session ended meanwhile, the prompter
// failed — into one outcome the connection manager maps to a state.
import type { PromptAnswer, Prompter, PromptRequest } from './prompter.js';

export type AskOutcome =
  | { kind: 'answered'; answer: PromptAnswer }
  | { kind: 'cancelled'; detail: string }
  | { kind: 'timeout'; detail: string }
  /** The session ended while asking (disconnect, failure): nothing more to do. */
  | { kind: 'ended' };

export async function askWithDeadline(prompter: Prompter, request: PromptRequest, sessionEnded: AbortSignal): Promise<AskOutcome> {
  if (sessionEnded.aborted) return { kind: 'ended' };
  // The prompter's signal fires on either: our deadline, or the end of the session.
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, request.timeoutMs);
  const onEnd = () => controller.abort();
  sessionEnded.addEventListener('abort', onEnd);
  let answer: PromptAnswer | null;
  try {
    // A prompter that ignores its signal must not keep the session waiting past the deadline.
    answer = await Promise.race([
      prompter.ask(request, controller.signal),
      new Promise<null>((resolve) => controller.signal.addEventListener('abort', () => resolve(null))),
    ]);
  } catch (e) {
    return sessionEnded.aborted ? { kind: 'ended' } : { kind: 'cancelled', detail: (e as Error).message };
  } finally {
    clearTimeout(timer);
    sessionEnded.removeEventListener('abort', onEnd);
  }
  if (sessionEnded.aborted) return { kind: 'ended' };
  if (timedOut) return { kind: 'timeout', detail: `no answer within ${Math.round(request.timeoutMs / 1000)} s` };
  if (answer === null) return { kind: 'cancelled', detail: 'the prompt was cancelled' };
  return { kind: 'answered', answer };
}
