import { useState } from 'react';
import type { AppSnapshot, Settings } from '../../../app/ipc/types';
import { CheckRow, LeakProtectionChecks, ProfileOptions } from '../components/fields';
import { useServices } from '../context';

const backendWords: Record<string, string> = {
  'secret-service': 'the system keyring (Secret Service)',
  keychain: 'the macOS Keychain',
  wincred: 'Windows Credential Manager',
  'safe-storage': 'encrypted app storage',
  file: 'a passphrase-encrypted file (no keyring answered)',
  memory: 'memory only',
};

export function SettingsView({ snapshot }: { snapshot: AppSnapshot }) {
  const { bridge, report } = useServices();
  // Shows a change at once, while main saves it; main's snapshot is the truth again afterwards.
  const [pending, setPending] = useState<Settings | null>(null);
  const s = pending ?? snapshot.settings;
  const change = async (patch: Partial<Settings>) => {
    const next = { ...s, ...patch };
    setPending(next);
    try {
      await bridge.setSettings(next);
    } catch (err) {
      report(err);
    } finally {
      setPending(null);
    }
  };
  const env = snapshot.environment;
  return (
    <section aria-labelledby="settings-title">
      <div className="view-head">
        <h1 id="settings-title">Settings</h1>
      </div>
      <div className="card form">
        <label className="field">
          <span>Connect when Causeway starts</span>
          <select value={s.connectOnStartup ?? ''} onChange={(e) => void change({ connectOnStartup: e.target.value || null })}>
            <option value="">Don’t connect</option>
            <ProfileOptions profiles={snapshot.profiles} />
          </select>
        </label>
        <CheckRow label="Start minimized to the tray" checked={s.startMinimized} onChange={(startMinimized) => void change({ startMinimized })} />
        <CheckRow
          label="Show a notification when a connection comes up, drops or fails"
          checked={s.notifications}
          onChange={(notifications) => void change({ notifications })}
        />
      </div>
      <div className="card form" role="group" aria-labelledby="new-profiles-title">
        <h2 id="new-profiles-title">New profiles</h2>
        <p className="muted small">Profiles imported from now on (here or with causeway import) start with these; each profile’s details can change them.</p>
        <LeakProtectionChecks
          value={{ killSwitch: s.newProfileKillSwitch, allowLan: s.newProfileAllowLan }}
          onChange={(next) => void change({ newProfileKillSwitch: next.killSwitch, newProfileAllowLan: next.allowLan })}
        />
      </div>
      <div className="card">
        <h2>Saved secrets</h2>
        <p>
          Passwords and keys are kept in {backendWords[env.secretBackend] ?? env.secretBackend}
          {env.secretsPersistent ? '.' : ', so they are forgotten when Causeway quits.'}
        </p>
        {env.secretsReason && <p className="muted">{env.secretsReason}</p>}
        <p className="muted small">Causeway {env.version}</p>
      </div>
    </section>
  );
}
