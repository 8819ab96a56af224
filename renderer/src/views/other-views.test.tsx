import { screen, within } from '@testing-library/react';
import { renderApp } from '../test/render';
import { cert, snapshot, workProfile } from '../test/fixtures';

describe('Certificates view', () => {
  it('lists certificates with details and an expiry warning', async () => {
    const { user } = await renderApp(snapshot({ certs: [{ ...cert, attachedTo: ['work'] }] }));
    await user.click(screen.getByRole('button', { name: 'Certificates' }));
    const c = screen.getByRole('article', { name: 'laptop' });
    expect(c).toHaveTextContent('CN=alice');
    expect(c).toHaveTextContent('Expires soon, on 1 December 2026');
    expect(c).toHaveTextContent('Used by' + 'Work VPN');
  });

  it('explains the empty list', async () => {
    const { user } = await renderApp();
    await user.click(screen.getByRole('button', { name: 'Certificates' }));
    expect(screen.getByText(/No certificates yet/)).toBeInTheDocument();
  });

  it('shows an expired certificate as a problem', async () => {
    const { user } = await renderApp(snapshot({ certs: [{ ...cert, expiry: 'expired', notAfter: '2025-01-31T00:00:00.000Z' }] }));
    await user.click(screen.getByRole('button', { name: 'Certificates' }));
    expect(screen.getByText('Expired on 31 January 2025: ask your administrator for a new one')).toHaveClass('warn-text');
  });

  it('imports a PKCS#12 file with its password', async () => {
    const { bridge, user, container } = await renderApp();
    bridge.mocks.importCert!.mockResolvedValue(cert);
    await user.click(screen.getByRole('button', { name: 'Certificates' }));
    await user.upload(screen.getByLabelText('PKCS#12 file (.p12 or .pfx)'), new File([new Uint8Array([0x30, 0x82])], 'alice.p12'));
    await user.type(screen.getByLabelText('File password'), 'p12-pass');
    await user.click(screen.getByRole('button', { name: 'Import certificate' }));
    const [bytes, password, name] = bridge.mocks.importCert!.mock.calls[0]!;
    expect([...(bytes as Uint8Array)]).toEqual([0x30, 0x82]);
    expect(password).toBe('p12-pass');
    expect(name).toBe('alice');
    expect(await screen.findByText('Imported “laptop”.')).toBeInTheDocument();
    expect(container.querySelector<HTMLInputElement>('input[type=password]')!.value).toBe('');
  });

  it('attaches a certificate to a profile that needs one', async () => {
    const needy = { ...workProfile, authKind: 'certificate' as const, needsCertificate: true };
    const { bridge, user } = await renderApp(snapshot({ profiles: [needy], certs: [cert] }));
    await user.click(screen.getByRole('button', { name: 'Certificates' }));
    await user.selectOptions(screen.getByLabelText('Attach to'), 'work');
    await user.click(screen.getByRole('button', { name: 'Attach' }));
    expect(bridge.attachCert).toHaveBeenCalledWith('c1', 'work');
  });

  it('removes a certificate after confirmation', async () => {
    const { bridge, user } = await renderApp(snapshot({ certs: [cert] }));
    await user.click(screen.getByRole('button', { name: 'Certificates' }));
    await user.click(within(screen.getByRole('article', { name: 'laptop' })).getByRole('button', { name: 'Remove' }));
    await user.click(within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Remove' }));
    expect(bridge.removeCert).toHaveBeenCalledWith('c1');
  });
});

describe('Logs view', () => {
  const line = (sessionId: string, at: string, text: string) => ({ profileId: 'work', sessionId, at, level: 'info' as const, text });

  it('groups lines by session, newest first, and copies one session', async () => {
    const { bridge, user } = await renderApp();
    bridge.mocks.getLogs!.mockResolvedValue([
      line('s1', '2026-11-22T09:00:00.000Z', 'old session'),
      line('s2', '2026-11-22T10:42:00.000Z', 'Connecting to vpn.example.com'),
    ]);
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    await user.click(screen.getByRole('button', { name: 'Logs' }));
    const sessions = await screen.findAllByRole('article');
    expect(sessions).toHaveLength(2);
    expect(sessions[0]).toHaveTextContent('Connecting to vpn.example.com');
    await user.click(within(sessions[0]!).getByRole('button', { name: 'Copy' }));
    expect(writeText).toHaveBeenCalledWith('10:42:00 info  Connecting to vpn.example.com');
    expect(within(sessions[0]!).getByRole('button', { name: 'Copied' })).toBeInTheDocument();
  });

  it('appends live lines', async () => {
    const { bridge, user } = await renderApp();
    await user.click(screen.getByRole('button', { name: 'Logs' }));
    const { act } = await import('@testing-library/react');
    act(() => bridge.emit('log', line('s3', '2026-11-22T11:00:00.000Z', 'Connected')));
    expect(await screen.findByText(/Connected/)).toBeInTheDocument();
  });
});

describe('Settings view', () => {
  it('changes settings', async () => {
    const { bridge, user } = await renderApp();
    await user.click(screen.getByRole('button', { name: 'Settings' }));
    await user.click(screen.getByLabelText('Start minimized to the tray'));
    const leak = { newProfileKillSwitch: false, newProfileAllowLan: true };
    expect(bridge.setSettings).toHaveBeenLastCalledWith({ connectOnStartup: null, startMinimized: true, notifications: true, ...leak });
    await user.selectOptions(screen.getByLabelText('Connect when Causeway starts'), 'work');
    expect(bridge.setSettings).toHaveBeenLastCalledWith({ connectOnStartup: 'work', startMinimized: false, notifications: true, ...leak });
  });

  it('sets the kill switch and LAN access new profiles start with', async () => {
    const { bridge, user } = await renderApp();
    await user.click(screen.getByRole('button', { name: 'Settings' }));
    const group = screen.getByRole('group', { name: 'New profiles' });
    const killSwitch = within(group).getByLabelText(/^Kill switch/);
    const lan = within(group).getByLabelText(/^Allow the local network/);
    expect(killSwitch).not.toBeChecked();
    expect(lan).toBeChecked();
    await user.click(killSwitch);
    expect(bridge.setSettings).toHaveBeenLastCalledWith({ connectOnStartup: null, startMinimized: false, notifications: true, newProfileKillSwitch: true, newProfileAllowLan: true });
    await user.click(lan);
    expect(bridge.setSettings).toHaveBeenLastCalledWith({ connectOnStartup: null, startMinimized: false, notifications: true, newProfileKillSwitch: false, newProfileAllowLan: false });
  });

  it('shows a change at once while main saves it, and main’s answer after', async () => {
    const { bridge, user } = await renderApp();
    let finish!: () => void;
    bridge.mocks.setSettings!.mockImplementation(() => new Promise<void>((r) => (finish = r)));
    await user.click(screen.getByRole('button', { name: 'Settings' }));
    await user.click(screen.getByLabelText('Start minimized to the tray'));
    expect(screen.getByLabelText('Start minimized to the tray')).toBeChecked();
    const { act } = await import('@testing-library/react');
    await act(async () => finish()); // main did not push a new snapshot: it kept the old value
    expect(screen.getByLabelText('Start minimized to the tray')).not.toBeChecked();
  });

  it('says when secrets are not saved across restarts', async () => {
    const { user } = await renderApp(
      snapshot({ environment: { version: '0.1.0', secretBackend: 'memory', secretsPersistent: false, secretsReason: 'No Secret Service is running.' } }),
    );
    await user.click(screen.getByRole('button', { name: 'Settings' }));
    expect(screen.getByText(/memory only, so they are forgotten when Causeway quits/)).toBeInTheDocument();
    expect(screen.getByText('No Secret Service is running.')).toBeInTheDocument();
  });
});

describe('navigation', () => {
  it('marks the current section', async () => {
    const { user } = await renderApp();
    expect(screen.getByRole('button', { name: 'Connections' })).toHaveAttribute('aria-current', 'page');
    await user.click(screen.getByRole('button', { name: 'Settings' }));
    expect(screen.getByRole('button', { name: 'Settings' })).toHaveAttribute('aria-current', 'page');
  });

  it('shows why the app could not load', async () => {
    const { render } = await import('@testing-library/react');
    const { App } = await import('../App');
    const { createStore } = await import('../state/store');
    const { fakeBridge } = await import('../test/fake-bridge');
    const bridge = fakeBridge();
    bridge.mocks.getSnapshot!.mockRejectedValue(new Error('Causeway could not start its core.'));
    render(<App bridge={bridge} store={createStore(bridge)} />);
    expect(await screen.findByRole('alert')).toHaveTextContent('Causeway could not start its core.');
  });
});
