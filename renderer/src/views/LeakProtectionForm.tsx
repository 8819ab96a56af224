// A profile's leak protection: the kill switch and LAN access, saved as soon as a box changes.
// Main stores them in the profile (the same settings `causeway set` changes) and answers with
// the stored details; the next connection uses them.
import { useId, useState } from 'react';
import type { LeakProtectionInput, ProfileDetails } from '../../../app/ipc/types';
import { errorMessage } from '../bridge';
import { LeakProtectionChecks } from '../components/fields';
import { useServices } from '../context';

export function LeakProtectionForm({ details, onSaved }: { details: ProfileDetails; onSaved(details: ProfileDetails): void }) {
  const { bridge } = useServices();
  // Shows the change at once, while main saves it; main's answer is the truth again afterwards.
  const [pending, setPending] = useState<LeakProtectionInput | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ids = useId();
  const titleId = `${ids}-title`;
  const shown = pending ?? details;

  const change = async (patch: Partial<LeakProtectionInput>) => {
    // One change at a time, so the second one starts from what main stored for the first.
    if (pending) return;
    const next = { killSwitch: details.killSwitch, allowLan: details.allowLan, ...patch };
    setPending(next);
    setError(null);
    try {
      onSaved(await bridge.setProfileLeakProtection(details.id, next));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setPending(null);
    }
  };

  return (
    <div role="group" className="form leak" aria-labelledby={titleId} aria-busy={pending !== null}>
      <h3 id={titleId}>Leak protection</h3>
      <LeakProtectionChecks value={{ killSwitch: shown.killSwitch, allowLan: shown.allowLan }} onChange={(next) => void change(next)} />
      <p className="muted small">Used from the next connection.</p>
      {error && (
        <p className="inline-alert bad" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
