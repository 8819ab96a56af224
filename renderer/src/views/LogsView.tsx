// Per-session logs of one profile, already redacted by main, easy to copy into a support request.
import { useEffect, useMemo, useState } from 'react';
import type { AppSnapshot, LogLine } from '../../../app/ipc/types';
import { ProfileOptions } from '../components/fields';
import { useServices } from '../context';

interface Props {
  snapshot: AppSnapshot;
  liveLogs: Record<string, LogLine[]>;
}

function lineText(l: LogLine): string {
  return `${l.at.slice(11, 19)} ${l.level.padEnd(5)} ${l.text}`;
}

export function LogsView({ snapshot, liveLogs }: Props) {
  const { bridge, report } = useServices();
  const [profileId, setProfileId] = useState(snapshot.profiles[0]?.id ?? '');
  const [history, setHistory] = useState<LogLine[]>([]);
  const [copied, setCopied] = useState<string | null>(null);

  useEffect(() => {
    if (!profileId) return;
    let live = true;
    bridge.getLogs(profileId).then((l) => live && setHistory(l), report);
    return () => {
      live = false;
    };
  }, [bridge, profileId, report]);

  const sessions = useMemo(() => {
    const seen = new Set(history.map((l) => `${l.sessionId} ${l.at} ${l.text}`));
    const lines = [...history, ...(liveLogs[profileId] ?? []).filter((l) => !seen.has(`${l.sessionId} ${l.at} ${l.text}`))];
    const bySession = new Map<string, LogLine[]>();
    for (const l of lines) bySession.set(l.sessionId, [...(bySession.get(l.sessionId) ?? []), l]);
    return [...bySession.entries()].reverse();
  }, [history, liveLogs, profileId]);

  const copy = (sessionId: string, lines: LogLine[]) => {
    navigator.clipboard.writeText(lines.map(lineText).join('\n')).then(
      () => setCopied(sessionId),
      () => setCopied(null),
    );
  };

  return (
    <section aria-labelledby="logs-title">
      <div className="view-head">
        <h1 id="logs-title">Logs</h1>
        {snapshot.profiles.length > 0 && (
          <label className="inline">
            <span>Profile</span>
            <select value={profileId} onChange={(e) => setProfileId(e.target.value)}>
              <ProfileOptions profiles={snapshot.profiles} />
            </select>
          </label>
        )}
      </div>
      <p className="muted hint">Passwords, keys and tokens are removed before lines reach this view.</p>
      {sessions.length === 0 && <p className="muted">No log lines yet for this profile.</p>}
      {sessions.map(([sessionId, lines]) => (
        <article key={sessionId} className="card log-session" aria-label={`Session started ${lines[0]!.at.slice(0, 19).replace('T', ' ')}`}>
          <div className="view-head">
            <h3>Session started {new Date(lines[0]!.at).toLocaleString('en-GB')}</h3>
            <button type="button" className="button small" onClick={() => copy(sessionId, lines)}>
              {copied === sessionId ? 'Copied' : 'Copy'}
            </button>
          </div>
          <pre className="log" tabIndex={0}>
            {lines.map(lineText).join('\n')}
          </pre>
        </article>
      ))}
    </section>
  );
}
