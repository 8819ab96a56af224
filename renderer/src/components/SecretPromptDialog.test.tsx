// The secret dialog: on its own with any wording (so another kind of secret prompt can use it),
// and in the app for the passphrase of a key main is importing.
import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { vi } from 'vitest';
import { renderApp } from '../test/render';
import { keyPassphrasePrompt, passwordPrompt, snapshot } from '../test/fixtures';
import { SecretPromptDialog, type SecretPromptWording } from './SecretPromptDialog';

const PASSPHRASE = 'correct horse battery staple';

const wording: SecretPromptWording = { title: 'Unlock the thing', explanation: 'The thing is locked.', label: 'Secret', wrong: 'Not that one.' };

describe('SecretPromptDialog', () => {
  function renderDialog(retry = false) {
    const onSubmit = vi.fn(async () => {});
    const onCancel = vi.fn();
    const user = userEvent.setup();
    render(
      <>
        <button type="button">Behind the dialog</button>
        <SecretPromptDialog wording={wording} retry={retry} onSubmit={onSubmit} onCancel={onCancel} />
      </>,
    );
    return { onSubmit, onCancel, user };
  }

  it('is a labelled dialog whose masked field has the focus, and Enter submits', async () => {
    const { onSubmit, user } = renderDialog();
    const dialog = screen.getByRole('dialog', { name: 'Unlock the thing' });
    expect(dialog).toHaveAttribute('aria-modal', 'true');
    expect(dialog).toHaveTextContent('The thing is locked.');
    const field = within(dialog).getByLabelText('Secret');
    expect(field).toHaveFocus();
    expect(field).toHaveAttribute('type', 'password');
    expect(within(dialog).queryByRole('alert')).not.toBeInTheDocument();
    await user.keyboard(`${PASSPHRASE}{Enter}`);
    expect(onSubmit).toHaveBeenCalledWith(PASSPHRASE);
    // Handed over, and no longer held by the field.
    expect(field).toHaveValue('');
  });

  it('keeps Tab inside the dialog', async () => {
    const { user } = renderDialog();
    const dialog = screen.getByRole('dialog');
    for (let i = 0; i < 5; i++) {
      await user.tab();
      expect(dialog).toContainElement(document.activeElement as HTMLElement);
    }
    await user.tab({ shift: true });
    expect(dialog).toContainElement(document.activeElement as HTMLElement);
  });

  it('cancels with Escape and with the Cancel button', async () => {
    const { onCancel, onSubmit, user } = renderDialog();
    await user.keyboard('typed{Escape}');
    expect(onCancel).toHaveBeenCalledTimes(1);
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(onCancel).toHaveBeenCalledTimes(2);
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('cannot be submitted empty', async () => {
    const { onSubmit, user } = renderDialog();
    expect(screen.getByRole('button', { name: 'Unlock' })).toBeDisabled();
    await user.keyboard('{Enter}');
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('says when the previous answer was wrong', () => {
    renderDialog(true);
    expect(within(screen.getByRole('dialog')).getByRole('alert')).toHaveTextContent('Not that one.');
  });
});

describe('the passphrase of a key being imported', () => {
  it('asks in a dialog naming the file, and sends the answer to main', async () => {
    const { bridge, user } = await renderApp(snapshot({ secretPrompts: [keyPassphrasePrompt] }));
    const dialog = screen.getByRole('dialog', { name: 'Unlock the private key' });
    expect(dialog).toHaveTextContent('The private key in office.ovpn is protected by a passphrase.');
    expect(within(dialog).getByLabelText('Passphrase')).toHaveFocus();
    await user.keyboard(`${PASSPHRASE}{Enter}`);
    expect(bridge.answerSecretPrompt).toHaveBeenCalledWith('secret-1', PASSPHRASE);
  });

  it('asks again, saying the passphrase was wrong, when main asks again', async () => {
    const { bridge, user } = await renderApp(snapshot({ secretPrompts: [keyPassphrasePrompt] }));
    await user.keyboard('wrong one{Enter}');
    act(() => {
      bridge.emit('secretPromptClosed', { id: 'secret-1' });
      bridge.emit('secretPrompt', { ...keyPassphrasePrompt, id: 'secret-2', retry: true });
    });
    const dialog = screen.getByRole('dialog', { name: 'Unlock the private key' });
    expect(within(dialog).getByRole('alert')).toHaveTextContent('That passphrase did not unlock the key. Try again.');
    expect(within(dialog).getByLabelText('Passphrase')).toHaveValue('');
    await user.keyboard(`${PASSPHRASE}{Enter}`);
    expect(bridge.answerSecretPrompt).toHaveBeenLastCalledWith('secret-2', PASSPHRASE);
  });

  it('uses the password wording for a PKCS#12 bundle', async () => {
    await renderApp(snapshot({ secretPrompts: [{ ...keyPassphrasePrompt, kind: 'pkcs12-password', subject: null }] }));
    const dialog = screen.getByRole('dialog', { name: 'Unlock the PKCS#12 bundle' });
    expect(dialog).toHaveTextContent('The PKCS#12 bundle is protected by a password.');
    expect(within(dialog).getByLabelText('Password')).toHaveAttribute('type', 'password');
  });

  it('cancels with Escape', async () => {
    const { bridge, user } = await renderApp(snapshot({ secretPrompts: [keyPassphrasePrompt] }));
    await user.keyboard('half typed{Escape}');
    expect(bridge.cancelSecretPrompt).toHaveBeenCalledWith('secret-1');
    expect(bridge.answerSecretPrompt).not.toHaveBeenCalled();
  });

  it('comes before a connection’s prompt', async () => {
    const { bridge } = await renderApp(snapshot({ secretPrompts: [keyPassphrasePrompt], prompts: [passwordPrompt] }));
    expect(screen.getAllByRole('dialog')).toHaveLength(1);
    expect(screen.getByRole('dialog', { name: 'Unlock the private key' })).toBeInTheDocument();
    act(() => bridge.emit('secretPromptClosed', { id: 'secret-1' }));
    expect(screen.getByRole('dialog', { name: 'Sign in to Work VPN' })).toBeInTheDocument();
  });

  it('leaves no trace of the passphrase in the page or the renderer’s state once closed', async () => {
    const { bridge, store, user, container } = await renderApp(snapshot({ secretPrompts: [keyPassphrasePrompt] }));
    await user.keyboard(PASSPHRASE);
    await user.keyboard('{Enter}');
    act(() => bridge.emit('secretPromptClosed', { id: 'secret-1' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(JSON.stringify(store.getState())).not.toContain(PASSPHRASE);
    expect(container.innerHTML).not.toContain(PASSPHRASE);
    for (const input of document.querySelectorAll('input')) expect(input.value).not.toContain(PASSPHRASE);
  });
});
