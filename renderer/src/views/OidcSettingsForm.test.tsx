import { screen, within } from '@testing-library/react';
import { CausewayCallError } from '../../../app/ipc/bridge';
import type { ProfileDetails } from '../../../app/ipc/types';
import { details } from '../test/fixtures';
import { renderApp } from '../test/render';

const stored: ProfileDetails['oidc'] = {
  issuer: 'https://login.example.com/realms/staff',
  clientId: 'causeway-desktop',
  scopes: ['openid', 'email'],
  usernameClaim: 'email',
  token: 'id_token',
};

/** Opens Work VPN's details and returns its single sign-on form. */
async function openForm(initial: ProfileDetails = details) {
  const app = await renderApp();
  app.bridge.mocks.getProfileDetails!.mockResolvedValue(initial);
  await app.user.click(within(screen.getByRole('article', { name: 'Work VPN' })).getByRole('button', { name: 'Details' }));
  const form = await screen.findByRole('form', { name: 'Single sign-on (OpenID Connect)' });
  return { ...app, form };
}

describe('Single sign-on settings', () => {
  it('saves what the user typed, from the keyboard, and shows what main stored', async () => {
    const { bridge, user, form } = await openForm();
    bridge.mocks.setProfileOidc!.mockResolvedValue({ ...details, oidc: { ...stored, scopes: ['openid', 'email'] } });
    expect(within(form).queryByRole('button', { name: 'Remove single sign-on' })).toBeNull();
    await user.click(within(form).getByLabelText('Issuer URL'));
    await user.keyboard('https://login.example.com/realms/staff');
    await user.tab();
    expect(within(form).getByLabelText('Client id')).toHaveFocus();
    await user.keyboard('causeway-desktop');
    await user.tab();
    await user.keyboard('email');
    await user.tab();
    await user.keyboard('email{Enter}');
    expect(bridge.setProfileOidc).toHaveBeenCalledWith('work', {
      issuer: 'https://login.example.com/realms/staff',
      clientId: 'causeway-desktop',
      scopes: 'email',
      usernameClaim: 'email',
      token: 'id_token',
    });
    expect(await within(form).findByRole('status')).toHaveTextContent('Single sign-on saved.');
    // Main completed the scopes; the form and the details show the stored settings.
    expect(within(form).getByLabelText('Scopes')).toHaveValue('openid email');
    expect(screen.getByText('https://login.example.com/realms/staff (client causeway-desktop)')).toBeInTheDocument();
    expect(within(form).getByRole('button', { name: 'Remove single sign-on' })).toBeEnabled();
  });

  it('shows main’s message next to the fields when the issuer is refused', async () => {
    const { bridge, user, form } = await openForm();
    const message = 'The OIDC issuer must be an https URL (http is allowed only on this computer).';
    bridge.mocks.setProfileOidc!.mockRejectedValue(new CausewayCallError('invalid-oidc', message));
    await user.type(within(form).getByLabelText('Issuer URL'), 'http://login.example.com');
    await user.type(within(form).getByLabelText('Client id'), 'causeway-desktop');
    await user.click(within(form).getByRole('button', { name: 'Save single sign-on' }));
    const alert = await within(form).findByRole('alert');
    expect(alert).toHaveTextContent(message);
    const issuer = within(form).getByLabelText('Issuer URL');
    expect(issuer).toHaveAttribute('aria-invalid', 'true');
    expect(issuer).toHaveAccessibleDescription(message);
    // What the user typed stays, so they can correct it.
    expect(issuer).toHaveValue('http://login.example.com');
    expect(within(form).queryByRole('status')).toBeNull();
  });

  it('removes single sign-on and empties the form', async () => {
    const { bridge, user, form } = await openForm({ ...details, oidc: stored });
    expect(within(form).getByLabelText('Issuer URL')).toHaveValue(stored.issuer);
    expect(within(form).getByLabelText('Username claim')).toHaveValue('email');
    bridge.mocks.setProfileOidc!.mockResolvedValue({ ...details, oidc: null });
    await user.click(within(form).getByRole('button', { name: 'Remove single sign-on' }));
    expect(bridge.setProfileOidc).toHaveBeenCalledWith('work', null);
    expect(await within(form).findByRole('status')).toHaveTextContent('Single sign-on removed.');
    expect(within(form).getByLabelText('Issuer URL')).toHaveValue('');
    expect(within(form).queryByRole('button', { name: 'Remove single sign-on' })).toBeNull();
    expect(screen.getByText('Not set up')).toBeInTheDocument();
  });
});
