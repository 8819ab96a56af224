import { screen, within } from '@testing-library/react';
import { CausewayCallError } from '../../../app/ipc/bridge';
import type { ProfileDetails } from '../../../app/ipc/types';
import { details } from '../test/fixtures';
import { renderApp } from '../test/render';

/** Opens Work VPN's details and returns its leak protection group. */
async function openGroup(initial: ProfileDetails = details) {
  const app = await renderApp();
  app.bridge.mocks.getProfileDetails!.mockResolvedValue(initial);
  await app.user.click(within(screen.getByRole('article', { name: 'Work VPN' })).getByRole('button', { name: 'Details' }));
  const group = await screen.findByRole('group', { name: 'Leak protection' });
  return { ...app, group };
}

describe('Leak protection in a profile’s details', () => {
  it('shows the stored settings and turns the kill switch on from the keyboard', async () => {
    const { bridge, user, group } = await openGroup();
    expect(screen.getByText('Kill switch').nextElementSibling).toHaveTextContent('Off');
    expect(screen.getByText('Local network').nextElementSibling).toHaveTextContent('Allowed');
    const killSwitch = within(group).getByLabelText(/^Kill switch/);
    expect(killSwitch).not.toBeChecked();
    bridge.mocks.setProfileLeakProtection!.mockResolvedValue({ ...details, killSwitch: true });
    killSwitch.focus();
    await user.keyboard(' ');
    expect(bridge.setProfileLeakProtection).toHaveBeenCalledWith('work', { killSwitch: true, allowLan: true });
    expect(await within(group).findByLabelText(/^Kill switch/)).toBeChecked();
    expect(screen.getByText('Kill switch').nextElementSibling).toHaveTextContent('On');
  });

  it('blocks the local network, keeping the kill switch as stored', async () => {
    const { bridge, user, group } = await openGroup({ ...details, killSwitch: true });
    bridge.mocks.setProfileLeakProtection!.mockResolvedValue({ ...details, killSwitch: true, allowLan: false });
    await user.click(within(group).getByLabelText(/^Allow the local network/));
    expect(bridge.setProfileLeakProtection).toHaveBeenCalledWith('work', { killSwitch: true, allowLan: false });
    expect(await screen.findByText('Blocked')).toBeInTheDocument();
    expect(within(group).getByLabelText(/^Allow the local network/)).not.toBeChecked();
  });

  it('shows main’s refusal and keeps the stored value', async () => {
    const { bridge, user, group } = await openGroup();
    bridge.mocks.setProfileLeakProtection!.mockRejectedValue(new CausewayCallError('no-such-profile', 'That profile no longer exists.'));
    await user.click(within(group).getByLabelText(/^Kill switch/));
    expect(await within(group).findByRole('alert')).toHaveTextContent('That profile no longer exists.');
    expect(within(group).getByLabelText(/^Kill switch/)).not.toBeChecked();
  });
});
