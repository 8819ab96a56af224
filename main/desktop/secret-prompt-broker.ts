// Secrets main needs from the user to go on with something they started (today: the passphrase
// of a locked key while an import waits), asked in the renderer's secret dialog. Each question is
// a SecretPrompt the renderer sees in snapshots and events; the answer, or Cancel, settles it.
// The answer is handed to whoever asked and kept nowhere here. Electron-free.
import type { SecretPrompt } from '../../app/ipc/types';
import { UserFacingError } from '../../app/ipc/handlers';

export type SecretQuestion = Omit<SecretPrompt, 'id'>;

interface Open {
  view: SecretPrompt;
  settle(secret: string | null): void;
}

export class SecretPromptBroker {
  private readonly open = new Map<string, Open>();
  private seq = 0;

  constructor(
    private readonly onOpen: (view: SecretPrompt) => void,
    private readonly onClose: (id: string) => void,
  ) {}

  /** Resolves with what the user typed, or null when they cancelled. */
  ask(question: SecretQuestion): Promise<string | null> {
    return new Promise((resolve) => {
      const view: SecretPrompt = { id: `secret-${++this.seq}`, ...question };
      const settle = (secret: string | null) => {
        if (!this.open.delete(view.id)) return;
        this.onClose(view.id);
        resolve(secret);
      };
      this.open.set(view.id, { view, settle });
      this.onOpen(view);
    });
  }

  answer(id: string, secret: string): void {
    const open = this.open.get(id);
    if (!open) throw new UserFacingError('prompt-gone', 'This question is no longer open.');
    open.settle(secret);
  }

  cancel(id: string): void {
    this.open.get(id)?.settle(null);
  }

  pending(): SecretPrompt[] {
    return [...this.open.values()].map((o) => o.view);
  }
}
