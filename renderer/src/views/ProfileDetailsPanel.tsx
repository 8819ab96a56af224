// A profile's details, fetched when opened: servers, how it signs in, its certificate, whether
// a password is saved, its leak protection and its single sign-on settings (both editable).
import { useEffect, useState } from 'react';
import type { ProfileDetails } from '../../../app/ipc/types';
import { useServices } from '../context';
import { authWords, expiryWords } from '../format';
import { LeakProtectionForm } from './LeakProtectionForm';
import { OidcSettingsForm } from './OidcSettingsForm';

export function ProfileDetailsPanel({ profileId }: { profileId: string }) {
  const { bridge, report } = useServices();
  const [details, setDetails] = useState<ProfileDetails | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let live = true;
    bridge.getProfileDetails(profileId).then((d) => live && setDetails(d), report);
    return () => {
      live = false;
    };
  }, [bridge, profileId, report, version]);

  if (!details) return <p className="muted details">Loading details…</p>;
  const forget = () =>
    bridge
      .forgetPassword(profileId)
      .then(() => setVersion((v) => v + 1))
      .catch(report);
  return (
    <div>
      <dl className="details">
        <dt>{details.remotes.length > 1 ? 'Servers' : 'Server'}</dt>
        <dd>
          {details.remotes.map((r) => (
            <div key={`${r.host}:${r.port}:${r.proto}`}>
              {r.host}:{r.port} ({r.proto.toUpperCase()})
            </div>
          ))}
        </dd>
        <dt>Sign-in</dt>
        <dd>{authWords[details.authKind]}</dd>
        <dt>Certificate</dt>
        <dd>
          {details.certificate ? (
            <>
              <div>{details.certificate.subject}</div>
              <div className={details.certificate.expiry === 'valid' ? 'muted' : 'warn-text'}>
                {expiryWords(details.certificate.expiry, details.certificate.notAfter)}
              </div>
            </>
          ) : details.needsCertificate ? (
            'Missing: attach one under Certificates'
          ) : (
            'Not used'
          )}
        </dd>
        <dt>Saved password</dt>
        <dd>
          {details.passwordSaved ? (
            <>
              Saved in the system keyring{' '}
              <button type="button" className="link" onClick={forget}>
                Forget it
              </button>
            </>
          ) : (
            'None'
          )}
        </dd>
        <dt>Single sign-on</dt>
        <dd className="wrap">{details.oidc ? `${details.oidc.issuer} (client ${details.oidc.clientId})` : 'Not set up'}</dd>
        <dt>Kill switch</dt>
        <dd>{details.killSwitch ? 'On' : 'Off'}</dd>
        <dt>Local network</dt>
        <dd>{details.allowLan ? 'Allowed' : 'Blocked'}</dd>
      </dl>
      <LeakProtectionForm details={details} onSaved={setDetails} />
      <OidcSettingsForm details={details} onSaved={setDetails} />
    </div>
  );
}
