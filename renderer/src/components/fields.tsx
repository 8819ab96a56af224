// Form controls more than one view shows: a labelled checkbox, the two leak-protection boxes (a
// profile's own and the defaults for new profiles) and the list of profiles to pick from.
import type { LeakProtectionInput, ProfileSummary } from '../../../app/ipc/types';

/** A checkbox and its label; the caller saves the change. */
export function CheckRow({ label, checked, onChange }: { label: string; checked: boolean; onChange(checked: boolean): void }) {
  return (
    <label className="check">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span>{label}</span>
    </label>
  );
}

/** The kill switch and LAN access boxes; `onChange` gets both values after a change. */
export function LeakProtectionChecks({ value, onChange }: { value: LeakProtectionInput; onChange(next: LeakProtectionInput): void }) {
  return (
    <>
      <CheckRow
        label="Kill switch: while connected or reconnecting, nothing leaves this computer but the VPN"
        checked={value.killSwitch}
        onChange={(killSwitch) => onChange({ ...value, killSwitch })}
      />
      <CheckRow
        label="Allow the local network (printers, file shares) while traffic outside the VPN is blocked"
        checked={value.allowLan}
        onChange={(allowLan) => onChange({ ...value, allowLan })}
      />
    </>
  );
}

/** One `<option>` per profile, its id the value. */
export function ProfileOptions({ profiles }: { profiles: readonly ProfileSummary[] }) {
  return profiles.map((p) => (
    <option key={p.id} value={p.id}>
      {p.name}
    </option>
  ));
}
