// One profile: its live state in plain words, the one Connect/Disconnect button, what the tunnel
// looks like when up, and the profile's own actions. The status block and the facts row keep their
// size in every state, so nothing jumps while a connection comes up.
import { useState, type FormEvent } from 'react';
import type { ConnectionView, ProfileSummary, TrafficStats } from '../../../app/ipc/types';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { useServices } from '../context';
import { authWords, bytes, describeConnection, duration, expiryWords, offersConnect } from '../format';
import { useNow } from '../useNow';
import { ProfileDetailsPanel } from './ProfileDetailsPanel';

interface Props {
  profile: ProfileSummary;
  view: ConnectionView;
  stats: TrafficStats | undefined;
}

function serverText(p: ProfileSummary): string {
  return p.remote ? `${p.remote.host}:${p.remote.port} (${p.remote.proto.toUpperCase()})` : 'No server';
}

export function ProfileCard({ profile, view, stats }: Props) {
  const { bridge, report } = useServices();
  const [renaming, setRenaming] = useState(false);
  const [newName, setNewName] = useState(profile.name);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [showDetails, setShowDetails] = useState(false);
  const connected = view.phase === 'connected';
  const now = useNow(connected);
  const words = describeConnection(view);
  const headingId = `profile-${profile.id}-name`;

  const toggle = () => {
    const call = offersConnect(view) ? bridge.connect(profile.id) : bridge.disconnect(profile.id);
    call.catch(report);
  };
  const rename = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await bridge.renameProfile(profile.id, newName.trim());
      setRenaming(false);
    } catch (err) {
      report(err);
    }
  };
  const remove = async () => {
    setConfirmRemove(false);
    await bridge.removeProfile(profile.id).catch(report);
  };

  const buttonLabel = offersConnect(view) ? 'Connect' : view.phase === 'disconnecting' ? 'Disconnecting…' : 'Disconnect';
  const blocked = offersConnect(view) && profile.needsCertificate;

  return (
    <article className="card profile" aria-labelledby={headingId}>
      <div className="profile-head">
        <div className="profile-title">
          {renaming ? (
            <form className="rename" onSubmit={rename}>
              <label className="visually-hidden" htmlFor={`${headingId}-rename`}>
                New name for {profile.name}
              </label>
              <input id={`${headingId}-rename`} value={newName} onChange={(e) => setNewName(e.target.value)} autoFocus maxLength={200} />
              <button type="submit" className="button small primary" disabled={!newName.trim()}>
                Save
              </button>
              <button type="button" className="button small" onClick={() => setRenaming(false)}>
                Cancel
              </button>
            </form>
          ) : (
            <h3 id={headingId}>{profile.name}</h3>
          )}
          <p className="muted">
            {serverText(profile)} · {authWords[profile.authKind]}
          </p>
        </div>
        <button
          type="button"
          className={`button connect ${offersConnect(view) ? 'primary' : ''}`}
          onClick={toggle}
          disabled={view.phase === 'disconnecting' || blocked}
          aria-label={`${buttonLabel} ${profile.name}`}
        >
          {buttonLabel}
        </button>
      </div>

      <div className={`status tone-${words.tone}`} role="status" aria-live="polite">
        <span className="dot" aria-hidden="true" />
        <div>
          <p className="status-headline">{words.headline}</p>
          <p className="status-detail">{words.detail ?? ' '}</p>
          {view.phase === 'waiting-browser' && view.canReopen && (
            <button type="button" className="button small" onClick={() => bridge.reopenLogin(profile.id).catch(report)}>
              Open the login page again
            </button>
          )}
        </div>
      </div>

      <dl className="facts">
        <div>
          <dt>Address</dt>
          <dd>{connected ? (view.ipv4 ?? view.ipv6 ?? '—') : '—'}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{connected ? duration(now - Date.parse(view.since)) : '—'}</dd>
        </div>
        <div>
          <dt>Traffic</dt>
          <dd>{connected && stats ? `↓ ${bytes(stats.rxBytes)}  ↑ ${bytes(stats.txBytes)}` : '—'}</dd>
        </div>
      </dl>

      {profile.needsCertificate && <p className="inline-alert attention">This profile needs a certificate: import one under Certificates and attach it.</p>}
      {profile.certificateExpiry && profile.certificateNotAfter && profile.certificateExpiry !== 'valid' && (
        <p className={`inline-alert ${profile.certificateExpiry === 'expiring-soon' ? 'attention' : 'bad'}`}>
          Certificate: {expiryWords(profile.certificateExpiry, profile.certificateNotAfter)}
        </p>
      )}

      <div className="card-actions">
        <button type="button" className="link" aria-expanded={showDetails} onClick={() => setShowDetails((v) => !v)}>
          {showDetails ? 'Hide details' : 'Details'}
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            setNewName(profile.name);
            setRenaming(true);
          }}
        >
          Rename
        </button>
        <button type="button" className="link danger" onClick={() => setConfirmRemove(true)}>
          Remove
        </button>
      </div>
      {showDetails && <ProfileDetailsPanel profileId={profile.id} />}
      {confirmRemove && (
        <ConfirmDialog title={`Remove “${profile.name}”?`} confirmLabel="Remove" onConfirm={remove} onCancel={() => setConfirmRemove(false)}>
          <p>This deletes the profile and any password saved for it. You can import the file again later.</p>
        </ConfirmDialog>
      )}
    </article>
  );
}
