// The home view: every profile with its connection, and importing new ones.
import { useRef } from 'react';
import type { AppSnapshot, ImportVerdict } from '../../../app/ipc/types';
import { ImportResult } from './ImportResult';
import { ProfileCard } from './ProfileCard';

export interface ImportState {
  fileName: string;
  verdict: ImportVerdict;
}

interface Props {
  snapshot: AppSnapshot;
  lastImport: ImportState | null;
  importing: boolean;
  onImportFile(file: File): void;
  onDismissImport(): void;
}

export function ConnectionsView({ snapshot, lastImport, importing, onImportFile, onDismissImport }: Props) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <section aria-labelledby="connections-title">
      <div className="view-head">
        <h1 id="connections-title">Connections</h1>
        <div>
          <input
            ref={input}
            id="import-file"
            type="file"
            accept=".ovpn,.conf,application/x-openvpn-profile"
            className="visually-hidden"
            tabIndex={-1}
            aria-hidden="true"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) onImportFile(file);
            }}
          />
          <button type="button" className="button primary" onClick={() => input.current?.click()} disabled={importing}>
            {importing ? 'Importing…' : 'Import profile…'}
          </button>
        </div>
      </div>
      <p className="muted hint">Import the .ovpn file your administrator gave you, or drop it on this window.</p>
      {lastImport && <ImportResult fileName={lastImport.fileName} verdict={lastImport.verdict} onDismiss={onDismissImport} />}
      {snapshot.profiles.length === 0 ? (
        <div className="empty card">
          <h2>No profiles yet</h2>
          <p>Causeway connects with the profiles you import. Choose “Import profile…” to add your first one.</p>
        </div>
      ) : (
        <div className="profile-list">
          {snapshot.profiles.map((p) => (
            <ProfileCard key={p.id} profile={p} view={snapshot.connections[p.id] ?? { phase: 'idle' }} stats={snapshot.stats[p.id]} />
          ))}
        </div>
      )}
    </section>
  );
}
