// The desktop app's Prompter: a connection's question becomes a dialog in the renderer, and the
// dialog's answer (or Cancel, or the session giving up) settles the question. Electron-free.
import type { PromptAnswer as IpcAnswer, PromptRequest as IpcPrompt } from '../../app/ipc/types';
import { UserFacingError } from '../../app/ipc/handlers';
import type { PromptAnswer, Prompter, PromptRequest } from '../connection/prompter';

interface Open {
  request: PromptRequest;
  view: IpcPrompt;
  settle(answer: PromptAnswer | null): void;
}

export function promptView(r: PromptRequest): IpcPrompt {
  const common = { id: r.id, profileId: r.profileId, profileName: r.profileName };
  if (r.kind === 'challenge') {
    return { ...common, kind: 'challenge', challenge: r.text, echo: r.echo, username: null, canRemember: false, retryReason: null };
  }
  if (r.kind === 'proxy-password') {
    const challenge = `The proxy ${r.proxy} needs a username and password.`;
    return { ...common, kind: 'proxy-password', challenge, echo: false, username: r.username, canRemember: r.canRemember, retryReason: r.retryReason };
  }
  return {
    ...common,
    // Without a password to ask (it is saved), a static challenge is just the MFA code.
    kind: r.askPassword ? 'password' : 'mfa',
    challenge: r.challenge?.text ?? null,
    echo: r.challenge?.echo ?? false,
    username: r.username,
    canRemember: r.askPassword && r.canRemember,
    retryReason: r.retryReason,
  };
}

function toManagerAnswer(open: Open, answer: IpcAnswer): PromptAnswer {
  const { request, view } = open;
  const mismatch = () => new UserFacingError('wrong-answer', 'That answer does not fit the question that was asked.');
  if (request.kind === 'challenge') {
    if (answer.kind !== 'response') throw mismatch();
    return { kind: 'challenge', response: answer.response };
  }
  if (request.kind === 'proxy-password') {
    if (answer.kind !== 'password') throw mismatch();
    return { kind: 'proxy-password', username: answer.username, password: answer.password, remember: request.canRemember && answer.remember };
  }
  if (view.kind === 'mfa') {
    if (answer.kind !== 'response') throw mismatch();
    return { kind: 'credentials', username: request.username ?? '', password: '', response: answer.response, remember: false };
  }
  if (answer.kind !== 'password') throw mismatch();
  if (request.challenge && !answer.response) throw new UserFacingError('missing-code', 'Enter the code as well as your password.');
  return {
    kind: 'credentials',
    username: answer.username,
    password: answer.password,
    response: request.challenge ? answer.response : null,
    remember: request.canRemember && answer.remember,
  };
}

export class PromptBroker implements Prompter {
  private readonly open = new Map<string, Open>();

  constructor(
    private readonly onOpen: (view: IpcPrompt) => void,
    private readonly onClose: (id: string, profileId: string) => void,
  ) {}

  ask(request: PromptRequest, signal: AbortSignal): Promise<PromptAnswer | null> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(null);
      const settle = (answer: PromptAnswer | null) => {
        if (!this.open.delete(request.id)) return;
        signal.removeEventListener('abort', onAbort);
        this.onClose(request.id, request.profileId);
        resolve(answer);
      };
      const onAbort = () => settle(null);
      signal.addEventListener('abort', onAbort);
      const view = promptView(request);
      this.open.set(request.id, { request, view, settle });
      this.onOpen(view);
    });
  }

  answer(id: string, answer: IpcAnswer): void {
    const open = this.open.get(id);
    if (!open) throw new UserFacingError('prompt-gone', 'This question is no longer open.');
    open.settle(toManagerAnswer(open, answer));
  }

  cancel(id: string): void {
    this.open.get(id)?.settle(null);
  }

  pending(): IpcPrompt[] {
    return [...this.open.values()].map((o) => o.view);
  }

  forProfile(profileId: string): IpcPrompt | null {
    return this.pending().find((p) => p.profileId === profileId) ?? null;
  }
}
