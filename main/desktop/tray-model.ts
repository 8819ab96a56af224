// What the tray shows, decided without Electron: one icon for the most important state across
// all profiles, a tooltip, and a menu with Connect/Disconnect per profile. main/electron/tray.ts
// turns this into a Tray and a Menu.
import type { ConnectionView, ProfileSummary } from '../../app/ipc/types';

export type TrayIconState = 'disconnected' | 'connecting' | 'connected' | 'error';

export type TrayItem =
  | { kind: 'profile'; profileId: string; label: string; action: 'connect' | 'disconnect'; enabled: boolean }
  | { kind: 'separator' }
  | { kind: 'show' }
  | { kind: 'quit' };

export interface TrayModel {
  icon: TrayIconState;
  tooltip: string;
  items: TrayItem[];
}

const busy = new Set<ConnectionView['phase']>(['connecting', 'waiting-browser', 'waiting-input', 'reconnecting', 'disconnecting']);

export function trayModel(profiles: ProfileSummary[], connections: Record<string, ConnectionView>): TrayModel {
  const viewOf = (id: string): ConnectionView => connections[id] ?? { phase: 'idle' };
  const connected = profiles.filter((p) => viewOf(p.id).phase === 'connected');
  const connecting = profiles.filter((p) => busy.has(viewOf(p.id).phase));
  const failed = profiles.filter((p) => viewOf(p.id).phase === 'failed');

  let icon: TrayIconState = 'disconnected';
  let tooltip = 'Causeway: not connected';
  if (failed.length) {
    icon = 'error';
    tooltip = `Causeway: ${failed[0]!.name} failed to connect`;
  }
  if (connecting.length) {
    icon = 'connecting';
    tooltip = `Causeway: connecting ${connecting[0]!.name}…`;
  }
  if (connected.length) {
    icon = 'connected';
    tooltip = `Causeway: connected to ${connected.map((p) => p.name).join(', ')}`;
  }

  const items: TrayItem[] = profiles.map((p) => {
    const phase = viewOf(p.id).phase;
    const connect = phase === 'idle' || phase === 'failed';
    return {
      kind: 'profile',
      profileId: p.id,
      label: connect ? `Connect ${p.name}` : phase === 'disconnecting' ? `Disconnecting ${p.name}…` : `Disconnect ${p.name}`,
      action: connect ? 'connect' : 'disconnect',
      enabled: phase !== 'disconnecting' && !(connect && p.needsCertificate),
    };
  });
  if (items.length) items.push({ kind: 'separator' });
  items.push({ kind: 'show' }, { kind: 'separator' }, { kind: 'quit' });
  return { icon, tooltip, items };
}
