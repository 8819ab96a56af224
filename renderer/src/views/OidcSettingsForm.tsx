// A profile's single sign-on (OpenID Connect) settings: which provider to sign in with and how the
// token is presented to the VPN server. Main validates with the importer's rules and answers with
// the stored settings (defaults filled in), or with a message the form shows next to its fields.
import { useId, useState, type FormEvent } from 'react';
import type { OidcTokenKind, OidcView, ProfileDetails } from '../../../app/ipc/types';
import { errorMessage } from '../bridge';
import { useServices } from '../context';

interface Fields {
  issuer: string;
  clientId: string;
  scopes: string;
  usernameClaim: string;
  token: OidcTokenKind;
}

function fieldsOf(oidc: OidcView | null): Fields {
  if (!oidc) return { issuer: '', clientId: '', scopes: '', usernameClaim: '', token: 'id_token' };
  return { issuer: oidc.issuer, clientId: oidc.clientId, scopes: oidc.scopes.join(' '), usernameClaim: oidc.usernameClaim, token: oidc.token };
}

export function OidcSettingsForm({ details, onSaved }: { details: ProfileDetails; onSaved(details: ProfileDetails): void }) {
  const { bridge } = useServices();
  const [fields, setFields] = useState<Fields>(() => fieldsOf(details.oidc));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const ids = useId();
  const titleId = `${ids}-title`;
  const errorId = `${ids}-error`;

  const set = (key: keyof Fields) => (e: { target: { value: string } }) => setFields((f) => ({ ...f, [key]: e.target.value }));

  const apply = async (settings: Fields | null, doneText: string) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const next = await bridge.setProfileOidc(details.id, settings);
      setFields(fieldsOf(next.oidc));
      setDone(doneText);
      onSaved(next);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const save = (e: FormEvent) => {
    e.preventDefault();
    void apply(fields, 'Single sign-on saved.');
  };

  // Linked to every field, so a screen reader reads main's message with the field it concerns.
  const described = error ? { 'aria-describedby': errorId, 'aria-invalid': true } : {};
  return (
    <form className="form sso" onSubmit={save} aria-labelledby={titleId}>
      <h3 id={titleId}>Single sign-on (OpenID Connect)</h3>
      <p className="muted small">Sign in through your organisation’s login page; the token it issues is sent to the VPN server as the password.</p>
      <label className="field">
        <span>Issuer URL</span>
        <input value={fields.issuer} onChange={set('issuer')} inputMode="url" required maxLength={2048} placeholder="https://login.example.com/realms/staff" {...described} />
      </label>
      <label className="field">
        <span>Client id</span>
        <input value={fields.clientId} onChange={set('clientId')} required maxLength={512} {...described} />
      </label>
      <label className="field">
        <span>Scopes</span>
        <input value={fields.scopes} onChange={set('scopes')} maxLength={1024} placeholder="openid profile email offline_access" {...described} />
      </label>
      <label className="field">
        <span>Username claim</span>
        <input value={fields.usernameClaim} onChange={set('usernameClaim')} maxLength={200} placeholder="sub" {...described} />
      </label>
      <label className="field">
        <span>Token sent as the password</span>
        <select value={fields.token} onChange={set('token')}>
          <option value="id_token">ID token</option>
          <option value="access_token">Access token</option>
        </select>
      </label>
      {error && (
        <p id={errorId} className="inline-alert bad" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        {done && (
          <span className="good-text" role="status">
            {done}
          </span>
        )}
        {details.oidc && (
          <button type="button" className="button" disabled={busy} onClick={() => void apply(null, 'Single sign-on removed.')}>
            Remove single sign-on
          </button>
        )}
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save single sign-on'}
        </button>
      </div>
    </form>
  );
}
