// Main asks for something only the user knows: username and password, an MFA code, or the answer
// to a server's challenge. One form, submitted with Enter; Escape cancels the connection attempt.
import { useState, type FormEvent } from 'react';
import type { PromptAnswer, PromptRequest } from '../../../app/ipc/types';
import { Modal } from './Modal';

interface Props {
  prompt: PromptRequest;
  onAnswer(answer: PromptAnswer): Promise<void>;
  onCancel(): void;
}

const titles = { password: 'Sign in to', mfa: 'MFA code for', challenge: 'Question from', 'proxy-password': 'Proxy sign-in for' } as const;

export function PromptDialog({ prompt, onAnswer, onCancel }: Props) {
  const [username, setUsername] = useState(prompt.username ?? '');
  const [secret, setSecret] = useState('');
  const [response, setResponse] = useState('');
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);

  // The proxy's username and password are asked like the server's; its `challenge` names the proxy.
  const isPassword = prompt.kind === 'password' || prompt.kind === 'proxy-password';
  // A password prompt with a challenge asks for the MFA code too (OpenVPN static challenge).
  const alsoCode = prompt.kind === 'password' && prompt.challenge !== null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await onAnswer(
        isPassword
          ? { kind: 'password', username, password: secret, response: alsoCode ? response : null, remember }
          : { kind: 'response', response: secret },
      );
    } finally {
      setBusy(false);
    }
  };

  const canSubmit = !busy && secret.length > 0 && (!isPassword || username.length > 0) && (!alsoCode || response.length > 0);
  return (
    <Modal title={`${titles[prompt.kind]} ${prompt.profileName}`} onCancel={onCancel}>
      <form onSubmit={submit} className="form">
        {prompt.retryReason && (
          <p className="inline-alert bad" role="alert">
            {prompt.retryReason}
          </p>
        )}
        {prompt.challenge && !alsoCode && <p className="challenge">{prompt.challenge}</p>}
        {isPassword && (
          <label className="field">
            <span>Username</span>
            <input
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              autoComplete="username"
              {...(prompt.username ? {} : { 'data-autofocus': true })}
            />
          </label>
        )}
        <label className="field">
          <span>{isPassword ? 'Password' : prompt.kind === 'mfa' ? 'MFA code' : 'Your answer'}</span>
          <input
            type={isPassword || !prompt.echo ? 'password' : 'text'}
            value={secret}
            onChange={(e) => setSecret(e.target.value)}
            autoComplete={isPassword ? 'current-password' : prompt.kind === 'mfa' ? 'one-time-code' : 'off'}
            inputMode={prompt.kind === 'mfa' ? 'numeric' : undefined}
            {...(!isPassword || prompt.username ? { 'data-autofocus': true } : {})}
          />
        </label>
        {alsoCode && (
          <label className="field">
            <span>{prompt.challenge}</span>
            <input
              type={prompt.echo ? 'text' : 'password'}
              value={response}
              onChange={(e) => setResponse(e.target.value)}
              autoComplete="one-time-code"
              inputMode="numeric"
            />
          </label>
        )}
        {isPassword && prompt.canRemember && (
          <label className="check">
            <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
            <span>{prompt.kind === 'proxy-password' ? 'Remember the proxy password' : 'Remember my password'} in the system keyring</span>
          </label>
        )}
        <div className="actions">
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={!canSubmit}>
            Continue
          </button>
        </div>
      </form>
    </Modal>
  );
}
