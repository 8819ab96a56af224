// The verdict of an import: what was imported, which directives were removed and why, and what
// to look at; or why the file was refused.
import type { ImportVerdict } from '../../../app/ipc/types';

interface Props {
  fileName: string;
  verdict: ImportVerdict;
  onDismiss(): void;
}

export function ImportResult({ fileName, verdict, onDismiss }: Props) {
  const hasNotes = verdict.ok && (verdict.stripped.length > 0 || verdict.warnings.length > 0);
  return (
    <section className={`card import-result ${verdict.ok ? (hasNotes ? 'attention' : 'good') : 'bad'}`} aria-label="Import result" role="status">
      {verdict.ok ? (
        <>
          <h3>Imported “{verdict.profile.name}”</h3>
          {verdict.stripped.length > 0 && (
            <>
              <p>For your safety, Causeway removed these settings from {fileName}:</p>
              <ul className="notes">
                {verdict.stripped.map((s, i) => (
                  <li key={i}>
                    <code>{s.directive}</code>
                    {s.line !== null && <span className="muted"> (line {s.line})</span>}: {s.reason}
                  </li>
                ))}
              </ul>
            </>
          )}
          {verdict.warnings.length > 0 && (
            <>
              <p>Worth knowing:</p>
              <ul className="notes">
                {verdict.warnings.map((w, i) => (
                  <li key={i}>{w}</li>
                ))}
              </ul>
            </>
          )}
          {!hasNotes && <p>The profile is ready. Press Connect when you need it.</p>}
        </>
      ) : (
        <>
          <h3>{verdict.cancelled ? `Did not import ${fileName}` : `Could not import ${fileName}`}</h3>
          <ul className="notes">
            {verdict.errors.map((e, i) => (
              <li key={i}>
                {e.line !== null && <span className="muted">Line {e.line}: </span>}
                {e.message}
              </li>
            ))}
          </ul>
          <p className="muted">{verdict.cancelled ? 'Nothing was stored. Import the file again when you have the passphrase.' : 'Nothing was changed. Ask your administrator for a corrected file.'}</p>
        </>
      )}
      <div className="actions">
        <button type="button" className="button" onClick={onDismiss}>
          Dismiss
        </button>
      </div>
    </section>
  );
}
