// When to tell the user through a desktop notification: a connection came up, went down, or
// failed. Decided from the previous and next view, without Electron.
import type { ConnectionView } from '../../app/ipc/types';

export interface NotificationText {
  title: string;
  body: string;
}

export function notificationFor(name: string, prev: ConnectionView, next: ConnectionView): NotificationText | null {
  if (prev.phase === next.phase) return null;
  if (next.phase === 'connected') {
    const where = next.ipv4 ?? next.ipv6;
    return { title: `Connected to ${name}`, body: where ? `Your address in the VPN is ${where}.` : 'The VPN is up.' };
  }
  if (next.phase === 'failed') return { title: `${name}: connection failed`, body: `${next.message} ${next.nextStep}` };
  if (next.phase === 'idle' && (prev.phase === 'connected' || prev.phase === 'disconnecting' || prev.phase === 'reconnecting')) {
    return { title: `Disconnected from ${name}`, body: 'Traffic no longer goes through the VPN.' };
  }
  if (next.phase === 'reconnecting' && prev.phase === 'connected') {
    return { title: `${name}: connection lost`, body: 'Causeway is reconnecting.' };
  }
  return null;
}
