// The window: navigation, the current view, the app's alert line, and the dialogs main asks for
// (secret prompts of what the user just did first, then connection prompts, then banners — one at
// a time). A file dropped anywhere on the window is imported.
import { useCallback, useMemo, useState, type DragEvent } from 'react';
import type { AppSnapshot } from '../../app/ipc/types';
import { errorMessage, type CausewayBridge } from './bridge';
import { BannerDialog } from './components/BannerDialog';
import { PromptDialog } from './components/PromptDialog';
import { SecretPromptDialog, secretPromptWording } from './components/SecretPromptDialog';
import { ServicesContext, type AppServices } from './context';
import { useAppState, type Store } from './state/store';
import { CertificatesView } from './views/CertificatesView';
import { ConnectionsView, type ImportState } from './views/ConnectionsView';
import { LogsView } from './views/LogsView';
import { SettingsView } from './views/SettingsView';

type ViewName = 'connections' | 'certificates' | 'logs' | 'settings';
const views: { id: ViewName; label: string }[] = [
  { id: 'connections', label: 'Connections' },
  { id: 'certificates', label: 'Certificates' },
  { id: 'logs', label: 'Logs' },
  { id: 'settings', label: 'Settings' },
];

/** Profile names default to the file name without its extension. */
function profileNameFor(file: File): string {
  return file.name.replace(/\.(ovpn|conf)$/i, '').trim() || 'Imported profile';
}

export function App({ bridge, store }: { bridge: CausewayBridge; store: Store }) {
  const state = useAppState(store);
  const [view, setView] = useState<ViewName>('connections');
  const [alert, setAlert] = useState<string | null>(null);
  const [lastImport, setLastImport] = useState<ImportState | null>(null);
  const [importing, setImporting] = useState(false);
  const [dragging, setDragging] = useState(false);

  const report = useCallback((err: unknown) => setAlert(errorMessage(err)), []);
  const services = useMemo<AppServices>(() => ({ bridge, report }), [bridge, report]);

  const importFile = useCallback(
    async (file: File) => {
      setView('connections');
      setImporting(true);
      setLastImport(null);
      try {
        const verdict = await bridge.importProfile(new Uint8Array(await file.arrayBuffer()), profileNameFor(file));
        setLastImport({ fileName: file.name, verdict });
      } catch (err) {
        report(err);
      } finally {
        setImporting(false);
      }
    },
    [bridge, report],
  );

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (file) void importFile(file);
  };

  if (!state.snapshot) {
    return (
      <main className="loading" aria-busy={!state.loadError}>
        <p role={state.loadError ? 'alert' : 'status'}>{state.loadError ?? 'Loading…'}</p>
      </main>
    );
  }
  const snapshot: AppSnapshot = state.snapshot;
  const secretPrompt = snapshot.secretPrompts[0];
  const prompt = secretPrompt ? undefined : snapshot.prompts[0];
  const banner = secretPrompt || prompt ? undefined : snapshot.banners[0];

  return (
    <ServicesContext.Provider value={services}>
      <div
        className={`app ${dragging ? 'dragging' : ''}`}
        onDragOver={(e) => {
          if (e.dataTransfer.types.includes('Files')) {
            e.preventDefault();
            setDragging(true);
          }
        }}
        onDragLeave={(e) => {
          if (e.currentTarget === e.target) setDragging(false);
        }}
        onDrop={onDrop}
      >
        <header className="topbar">
          <span className="brand">Causeway</span>
          <nav aria-label="Sections">
            {views.map((v) => (
              <button key={v.id} type="button" className="nav-item" aria-current={view === v.id ? 'page' : undefined} onClick={() => setView(v.id)}>
                {v.label}
              </button>
            ))}
          </nav>
        </header>
        <div className="alert-line" aria-live="assertive">
          {alert && (
            <div className="inline-alert bad" role="alert">
              <span>{alert}</span>
              <button type="button" className="link" onClick={() => setAlert(null)}>
                Dismiss
              </button>
            </div>
          )}
        </div>
        <main className="content">
          {view === 'connections' && (
            <ConnectionsView snapshot={snapshot} lastImport={lastImport} importing={importing} onImportFile={importFile} onDismissImport={() => setLastImport(null)} />
          )}
          {view === 'certificates' && <CertificatesView snapshot={snapshot} />}
          {view === 'logs' && <LogsView snapshot={snapshot} liveLogs={state.liveLogs} />}
          {view === 'settings' && <SettingsView snapshot={snapshot} />}
        </main>
        {dragging && (
          <div className="drop-overlay" aria-hidden="true">
            Drop the profile to import it
          </div>
        )}
        {secretPrompt && (
          <SecretPromptDialog
            key={secretPrompt.id}
            wording={secretPromptWording[secretPrompt.kind](secretPrompt.subject)}
            retry={secretPrompt.retry}
            onSubmit={(secret) => bridge.answerSecretPrompt(secretPrompt.id, secret).catch(report)}
            onCancel={() => bridge.cancelSecretPrompt(secretPrompt.id).catch(report)}
          />
        )}
        {prompt && (
          <PromptDialog
            key={prompt.id}
            prompt={prompt}
            onAnswer={(answer) => bridge.answerPrompt(prompt.id, answer).catch(report)}
            onCancel={() => bridge.cancelPrompt(prompt.id).catch(report)}
          />
        )}
        {banner && <BannerDialog key={banner.id} banner={banner} onAcknowledge={() => bridge.ackBanner(banner.id).catch(report)} />}
      </div>
    </ServicesContext.Provider>
  );
}
