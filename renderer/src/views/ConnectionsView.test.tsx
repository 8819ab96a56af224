import { act, screen, within } from '@testing-library/react';
import { renderApp } from '../test/render';
import { awsProfile, cert, details, snapshot, workProfile } from '../test/fixtures';
import type { ConnectionView } from '../../../app/ipc/types';

function card(name: string) {
  return screen.getByRole('article', { name });
}

describe('Connections view', () => {
  it('shows an empty state that explains what to do', async () => {
    await renderApp(snapshot({ profiles: [] }));
    expect(screen.getByRole('heading', { name: 'No profiles yet' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Import profile…' })).toBeEnabled();
  });

  it('lists each profile with its server, sign-in and state', async () => {
    await renderApp(snapshot({ profiles: [workProfile, awsProfile], connections: { aws: { phase: 'waiting-browser', canReopen: true } } }));
    const work = card('Work VPN');
    expect(within(work).getByText('vpn.example.com:1194 (UDP) · Username and password')).toBeInTheDocument();
    expect(within(work).getByRole('status')).toHaveTextContent('Not connected');
    expect(within(card('AWS Dev')).getByRole('status')).toHaveTextContent('Waiting for you to log in in your browser');
  });

  it('connects and disconnects with the one button', async () => {
    const { bridge, user } = await renderApp();
    await user.click(screen.getByRole('button', { name: 'Connect Work VPN' }));
    expect(bridge.connect).toHaveBeenCalledWith('work');
    act(() => bridge.emit('connection', { profileId: 'work', view: { phase: 'connecting', step: 'connecting', server: 'vpn.example.com' } }));
    expect(within(card('Work VPN')).getByRole('status')).toHaveTextContent('Connecting…Reaching vpn.example.com');
    await user.click(screen.getByRole('button', { name: 'Disconnect Work VPN' }));
    expect(bridge.disconnect).toHaveBeenCalledWith('work');
  });

  it('shows address, duration and traffic when connected', async () => {
    const since = new Date(Date.now() - 65_000).toISOString();
    const view: ConnectionView = { phase: 'connected', since, server: 'vpn.example.com', ipv4: '10.8.0.6', ipv6: null, dnsServers: [], sessionEndsAt: null };
    await renderApp(snapshot({ connections: { work: view }, stats: { work: { profileId: 'work', rxBytes: 1_500_000, txBytes: 2_000 } } }));
    const c = card('Work VPN');
    expect(within(c).getByRole('status')).toHaveTextContent(/Connected since \d\d:\d\d/);
    expect(within(c).getByText('10.8.0.6')).toBeInTheDocument();
    expect(within(c).getByText(/1 min 0[4-9] s/)).toBeInTheDocument();
    expect(within(c).getByText(/↓ 1\.5 MB\s+↑ 2\.0 KB/)).toBeInTheDocument();
  });

  it('offers to reopen the login page while waiting for the browser', async () => {
    const { bridge, user } = await renderApp(snapshot({ profiles: [awsProfile], connections: { aws: { phase: 'waiting-browser', canReopen: true } } }));
    await user.click(screen.getByRole('button', { name: 'Open the login page again' }));
    expect(bridge.reopenLogin).toHaveBeenCalledWith('aws');
  });

  it.each<[ConnectionView, RegExp]>([
    [{ phase: 'waiting-input', promptId: 'q', kind: 'mfa' }, /Enter your MFA code/],
    [{ phase: 'reconnecting', reason: 'The server stopped answering.' }, /Reconnecting…The server stopped answering\./],
    [{ phase: 'disconnecting' }, /Disconnecting…/],
  ])('shows %j in words', async (view, text) => {
    await renderApp(snapshot({ connections: { work: view } }));
    expect(within(card('Work VPN')).getByRole('status')).toHaveTextContent(text);
  });

  it('explains a failure and the next step, and offers Connect again', async () => {
    await renderApp(
      snapshot({
        connections: { work: { phase: 'failed', code: 'auth-failed', message: 'The server rejected your password.', nextStep: 'Check your password and connect again.', serverMessage: null } },
      }),
    );
    const status = within(card('Work VPN')).getByRole('status');
    expect(status).toHaveTextContent('Failed: the server rejected your password.');
    expect(status).toHaveTextContent('Check your password and connect again.');
    expect(screen.getByRole('button', { name: 'Connect Work VPN' })).toBeEnabled();
  });

  it('keeps Disconnect disabled while disconnecting', async () => {
    await renderApp(snapshot({ connections: { work: { phase: 'disconnecting' } } }));
    expect(screen.getByRole('button', { name: 'Disconnecting… Work VPN' })).toBeDisabled();
  });

  it('blocks connecting a profile that needs a certificate, and says why', async () => {
    await renderApp(snapshot({ profiles: [{ ...workProfile, authKind: 'certificate', needsCertificate: true }] }));
    expect(screen.getByRole('button', { name: 'Connect Work VPN' })).toBeDisabled();
    expect(screen.getByText(/needs a certificate/)).toBeInTheDocument();
  });

  it('warns about a certificate that expires soon', async () => {
    await renderApp(snapshot({ profiles: [{ ...workProfile, hasCertificate: true, certificateExpiry: 'expiring-soon', certificateNotAfter: cert.notAfter }] }));
    expect(screen.getByText(/Certificate: Expires soon, on 1 December 2026/)).toBeInTheDocument();
  });

  it('renames a profile', async () => {
    const { bridge, user } = await renderApp();
    await user.click(within(card('Work VPN')).getByRole('button', { name: 'Rename' }));
    const input = screen.getByLabelText('New name for Work VPN');
    await user.clear(input);
    await user.type(input, 'Office{Enter}');
    expect(bridge.renameProfile).toHaveBeenCalledWith('work', 'Office');
  });

  it('asks before removing, and Cancel keeps the profile', async () => {
    const { bridge, user } = await renderApp();
    await user.click(within(card('Work VPN')).getByRole('button', { name: 'Remove' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Remove “Work VPN”?' });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(bridge.removeProfile).not.toHaveBeenCalled();
    await user.click(within(card('Work VPN')).getByRole('button', { name: 'Remove' }));
    await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Remove' }));
    expect(bridge.removeProfile).toHaveBeenCalledWith('work');
  });

  it('shows details: servers, sign-in, certificate, saved password', async () => {
    const { bridge, user } = await renderApp();
    bridge.mocks.getProfileDetails!.mockResolvedValue(details);
    await user.click(within(card('Work VPN')).getByRole('button', { name: 'Details' }));
    const c = card('Work VPN');
    expect(await within(c).findByText('vpn2.example.com:443 (TCP)')).toBeInTheDocument();
    expect(within(c).getByText('Saved in the system keyring')).toBeInTheDocument();
    expect(within(c).getByText('Not used')).toBeInTheDocument();
    await user.click(within(c).getByRole('button', { name: 'Forget it' }));
    expect(bridge.forgetPassword).toHaveBeenCalledWith('work');
  });

  it('imports a chosen file and shows the stripped directives', async () => {
    const { bridge, user, container } = await renderApp(snapshot({ profiles: [] }));
    bridge.mocks.importProfile!.mockResolvedValue({
      ok: true,
      profile: workProfile,
      stripped: [{ directive: 'up', line: 12, reason: 'it would run a script on your computer' }],
      warnings: [],
    });
    const file = new File(['client\nremote vpn.example.com\nup /tmp/x.sh\n'], 'office.ovpn');
    await user.upload(container.querySelector<HTMLInputElement>('#import-file')!, file);
    const result = await screen.findByRole('status', { name: 'Import result' });
    expect(result).toHaveTextContent('Imported “Work VPN”');
    expect(result).toHaveTextContent('up (line 12): it would run a script on your computer');
    const [bytes, name] = bridge.mocks.importProfile!.mock.calls[0]!;
    expect(new TextDecoder().decode(bytes as Uint8Array)).toContain('remote vpn.example.com');
    expect(name).toBe('office');
  });

  it('explains a refused import', async () => {
    const { bridge, user, container } = await renderApp();
    bridge.mocks.importProfile!.mockResolvedValue({ ok: false, cancelled: false, errors: [{ message: 'TLS 1.0 is not allowed; the minimum is TLS 1.2.', line: 4 }] });
    await user.upload(container.querySelector<HTMLInputElement>('#import-file')!, new File(['x'], 'old.ovpn'));
    const result = await screen.findByRole('status', { name: 'Import result' });
    expect(result).toHaveTextContent('Could not import old.ovpn');
    expect(result).toHaveTextContent('Line 4: TLS 1.0 is not allowed');
    expect(result).toHaveTextContent('Nothing was changed');
  });

  it('imports a file dropped on the window', async () => {
    const { bridge, container } = await renderApp();
    bridge.mocks.importProfile!.mockResolvedValue({ ok: true, profile: workProfile, stripped: [], warnings: [] });
    const file = new File(['client'], 'dropped.ovpn');
    const { fireEvent } = await import('@testing-library/react');
    fireEvent.drop(container.querySelector('.app')!, { dataTransfer: { files: [file], types: ['Files'] } });
    expect(await screen.findByText('The profile is ready. Press Connect when you need it.')).toBeInTheDocument();
    expect(bridge.mocks.importProfile!.mock.calls[0]![1]).toBe('dropped');
  });

  it('shows a failed call in the alert line', async () => {
    const { bridge, user } = await renderApp();
    bridge.mocks.connect!.mockRejectedValue(new Error('The helper is not running.'));
    await user.click(screen.getByRole('button', { name: 'Connect Work VPN' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The helper is not running.');
  });
});
