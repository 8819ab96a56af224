import { act, screen, within } from '@testing-library/react';
import { renderApp } from '../test/render';
import { banner, passwordPrompt, snapshot } from '../test/fixtures';

describe('prompts', () => {
  it('asks for username and password, usable with the keyboard alone', async () => {
    const { bridge, user } = await renderApp(snapshot({ prompts: [passwordPrompt] }));
    const dialog = screen.getByRole('dialog', { name: 'Sign in to Work VPN' });
    expect(within(dialog).getByLabelText('Username')).toHaveFocus();
    await user.keyboard('alice');
    await user.tab();
    expect(within(dialog).getByLabelText('Password')).toHaveFocus();
    await user.keyboard('pa55');
    await user.tab();
    await user.keyboard(' '); // ticks "remember"
    await user.keyboard('{Enter}');
    expect(bridge.answerPrompt).toHaveBeenCalledWith('q1', { kind: 'password', username: 'alice', password: 'pa55', response: null, remember: true });
  });

  it("asks for the proxy's username and password, naming the proxy", async () => {
    const proxyPrompt = { ...passwordPrompt, kind: 'proxy-password' as const, challenge: 'The proxy 192.0.2.9:1080 needs a username and password.' };
    const { bridge, user } = await renderApp(snapshot({ prompts: [proxyPrompt] }));
    const dialog = screen.getByRole('dialog', { name: 'Proxy sign-in for Work VPN' });
    expect(within(dialog).getByText('The proxy 192.0.2.9:1080 needs a username and password.')).toBeInTheDocument();
    expect(within(dialog).getByLabelText('Username')).toHaveFocus();
    await user.keyboard('pu');
    await user.tab();
    await user.keyboard('proxy-pw');
    await user.tab();
    expect(within(dialog).getByLabelText('Remember the proxy password in the system keyring')).toHaveFocus();
    await user.keyboard('{Enter}');
    expect(bridge.answerPrompt).toHaveBeenCalledWith('q1', { kind: 'password', username: 'pu', password: 'proxy-pw', response: null, remember: false });
  });

  it('keeps Tab inside the dialog', async () => {
    const { user } = await renderApp(snapshot({ prompts: [passwordPrompt] }));
    const dialog = screen.getByRole('dialog');
    for (let i = 0; i < 6; i++) {
      await user.tab();
      expect(dialog).toContainElement(document.activeElement as HTMLElement);
    }
  });

  it('prefills a known username, focuses the password and hides remember when not allowed', async () => {
    await renderApp(snapshot({ prompts: [{ ...passwordPrompt, username: 'alice', canRemember: false }] }));
    expect(screen.getByLabelText('Username')).toHaveValue('alice');
    expect(screen.getByLabelText('Password')).toHaveFocus();
    expect(screen.queryByLabelText(/Remember/)).not.toBeInTheDocument();
  });

  it('says why it asks again after a rejected password', async () => {
    await renderApp(snapshot({ prompts: [{ ...passwordPrompt, retryReason: 'The server rejected your password.' }] }));
    expect(within(screen.getByRole('dialog')).getByRole('alert')).toHaveTextContent('The server rejected your password.');
  });

  it('asks for an MFA code with the profile’s challenge text, hidden when echo is off', async () => {
    const { bridge, user } = await renderApp(
      snapshot({ prompts: [{ ...passwordPrompt, kind: 'mfa', challenge: 'Enter the 6-digit code from your authenticator', echo: false }] }),
    );
    const dialog = screen.getByRole('dialog', { name: 'MFA code for Work VPN' });
    expect(dialog).toHaveTextContent('Enter the 6-digit code from your authenticator');
    const code = within(dialog).getByLabelText('MFA code');
    expect(code).toHaveAttribute('type', 'password');
    expect(code).toHaveAttribute('autocomplete', 'one-time-code');
    await user.keyboard('123456{Enter}');
    expect(bridge.answerPrompt).toHaveBeenCalledWith('q1', { kind: 'response', response: '123456' });
  });

  it('asks for password and MFA code together for a static challenge', async () => {
    const { bridge, user } = await renderApp(
      snapshot({ prompts: [{ ...passwordPrompt, username: 'alice', canRemember: false, challenge: 'Enter your authenticator code', echo: true }] }),
    );
    await user.keyboard('pa55');
    expect(screen.getByRole('button', { name: 'Continue' })).toBeDisabled();
    await user.tab();
    expect(screen.getByLabelText('Enter your authenticator code')).toHaveFocus();
    await user.keyboard('987654{Enter}');
    expect(bridge.answerPrompt).toHaveBeenCalledWith('q1', { kind: 'password', username: 'alice', password: 'pa55', response: '987654', remember: false });
  });

  it('shows a challenge answer while typing when echo is on', async () => {
    await renderApp(snapshot({ prompts: [{ ...passwordPrompt, kind: 'challenge', challenge: 'What is your PIN?', echo: true }] }));
    expect(screen.getByLabelText('Your answer')).toHaveAttribute('type', 'text');
  });

  it('cancels with Escape', async () => {
    const { bridge, user } = await renderApp(snapshot({ prompts: [passwordPrompt] }));
    await user.keyboard('{Escape}');
    expect(bridge.cancelPrompt).toHaveBeenCalledWith('q1');
  });

  it('closes when main says the prompt is over', async () => {
    const { bridge } = await renderApp(snapshot({ prompts: [passwordPrompt] }));
    act(() => bridge.emit('promptClosed', { id: 'q1' }));
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('cannot be submitted empty', async () => {
    await renderApp(snapshot({ prompts: [passwordPrompt] }));
    expect(screen.getByRole('button', { name: 'Continue' })).toBeDisabled();
  });
});

describe('banners', () => {
  it('shows a server message until it is acknowledged', async () => {
    const { bridge, user } = await renderApp();
    act(() => bridge.emit('banner', banner));
    const dialog = screen.getByRole('alertdialog', { name: 'Message from Work VPN' });
    expect(dialog).toHaveTextContent('Authorized use only. Activity is monitored.');
    await user.keyboard('{Escape}'); // a banner needs an explicit OK
    expect(bridge.ackBanner).not.toHaveBeenCalled();
    expect(within(dialog).getByRole('button', { name: 'OK' })).toHaveFocus();
    await user.keyboard('{Enter}');
    expect(bridge.ackBanner).toHaveBeenCalledWith('b1');
    act(() => bridge.emit('bannerCleared', { id: 'b1' }));
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
  });

  it.each([
    ['session-ending', 'Your Work VPN session ends soon'],
    ['session-ended', 'Your Work VPN session has ended'],
  ] as const)('titles a %s notice', async (kind, title) => {
    await renderApp(snapshot({ banners: [{ ...banner, kind, text: 'Your session ends at 18:42.' }] }));
    expect(screen.getByRole('alertdialog', { name: title })).toBeInTheDocument();
  });

  it('waits behind a pending prompt', async () => {
    const { bridge } = await renderApp(snapshot({ prompts: [passwordPrompt], banners: [banner] }));
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
    act(() => bridge.emit('promptClosed', { id: 'q1' }));
    expect(screen.getByRole('alertdialog', { name: 'Message from Work VPN' })).toBeInTheDocument();
  });
});
