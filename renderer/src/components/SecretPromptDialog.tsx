// Main needs one secret to go on (the passphrase of a key being imported): a dialog with a single
// masked field, submitted with Enter, cancelled with Escape. The dialog knows nothing of what it
// asks for beyond its wording, so every kind of secret prompt shares it (secretPromptWording). The
// typed secret lives in this component's state only until it is handed over; when the dialog
// closes, it is gone from the renderer.
import { useState, type FormEvent } from 'react';
import type { SecretPromptKind } from '../../../app/ipc/types';
import { Modal } from './Modal';

export interface SecretPromptWording {
  title: string;
  /** Says what is locked and why it is asked. */
  explanation: string;
  /** The field's label. */
  label: string;
  /** Shown when the previous answer was wrong. */
  wrong: string;
}

const inFile = (subject: string | null) => (subject ? ` in ${subject}` : '');

export const secretPromptWording: Record<SecretPromptKind, (subject: string | null) => SecretPromptWording> = {
  'key-passphrase': (subject) => ({
    title: 'Unlock the private key',
    explanation: `The private key${inFile(subject)} is protected by a passphrase. Only the unlocked key is kept; the passphrase is not stored.`,
    label: 'Passphrase',
    wrong: 'That passphrase did not unlock the key. Try again.',
  }),
  'pkcs12-password': (subject) => ({
    title: 'Unlock the PKCS#12 bundle',
    explanation: `The PKCS#12 bundle${inFile(subject)} is protected by a password. Only the unlocked key is kept; the password is not stored.`,
    label: 'Password',
    wrong: 'That password did not unlock the bundle. Try again.',
  }),
};

interface Props {
  wording: SecretPromptWording;
  retry: boolean;
  onSubmit(secret: string): Promise<void>;
  onCancel(): void;
}

export function SecretPromptDialog({ wording, retry, onSubmit, onCancel }: Props) {
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!secret) return;
    const given = secret;
    // Handed over at once: the renderer does not hold the secret while main checks it.
    setSecret('');
    setBusy(true);
    try {
      await onSubmit(given);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={wording.title} onCancel={onCancel}>
      <form onSubmit={submit} className="form">
        {retry && (
          <p className="inline-alert bad" role="alert">
            {wording.wrong}
          </p>
        )}
        <p>{wording.explanation}</p>
        <label className="field">
          <span>{wording.label}</span>
          <input type="password" value={secret} onChange={(e) => setSecret(e.target.value)} autoComplete="off" spellCheck={false} data-autofocus />
        </label>
        <div className="actions">
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy || secret.length === 0}>
            Unlock
          </button>
        </div>
      </form>
    </Modal>
  );
}

