// The renderer's state: main's last snapshot with the events since applied to it. Pure, so the
// component tests and the store share it.
import type { AppSnapshot, LogLine } from '../../../app/ipc/types';
import type { EventName, Events } from '../../../app/ipc/schema';

export interface AppState {
  snapshot: AppSnapshot | null;
  /** Live log lines per profile since the app opened (the Logs view also fetches history). */
  liveLogs: Record<string, LogLine[]>;
  /** Why the first snapshot could not be loaded, if it could not. */
  loadError: string | null;
}

export const initialState: AppState = { snapshot: null, liveLogs: {}, loadError: null };

/** Keeps the renderer's memory bounded on long sessions. */
export const MAX_LIVE_LOG_LINES = 2000;

export type AppEvent = { [E in EventName]: { event: E; payload: Events[E] } }[EventName];

export function reduce(state: AppState, e: AppEvent): AppState {
  if (e.event === 'snapshot') return { ...state, snapshot: e.payload };
  if (e.event === 'log') {
    const lines = [...(state.liveLogs[e.payload.profileId] ?? []), e.payload].slice(-MAX_LIVE_LOG_LINES);
    return { ...state, liveLogs: { ...state.liveLogs, [e.payload.profileId]: lines } };
  }
  const s = state.snapshot;
  if (!s) return state; // events before the first snapshot are covered by that snapshot
  switch (e.event) {
    case 'connection':
      return { ...state, snapshot: { ...s, connections: { ...s.connections, [e.payload.profileId]: e.payload.view } } };
    case 'stats':
      return { ...state, snapshot: { ...s, stats: { ...s.stats, [e.payload.profileId]: e.payload } } };
    case 'banner': {
      // A banner main sends again (more lines arrived) replaces the one with its id, in place.
      const known = s.banners.some((b) => b.id === e.payload.id);
      const banners = known ? s.banners.map((b) => (b.id === e.payload.id ? e.payload : b)) : [...s.banners, e.payload];
      return { ...state, snapshot: { ...s, banners } };
    }
    case 'bannerCleared':
      return { ...state, snapshot: { ...s, banners: s.banners.filter((b) => b.id !== e.payload.id) } };
    case 'prompt':
      return { ...state, snapshot: { ...s, prompts: [...s.prompts.filter((p) => p.id !== e.payload.id), e.payload] } };
    case 'promptClosed':
      return { ...state, snapshot: { ...s, prompts: s.prompts.filter((p) => p.id !== e.payload.id) } };
    case 'secretPrompt':
      return { ...state, snapshot: { ...s, secretPrompts: [...s.secretPrompts.filter((p) => p.id !== e.payload.id), e.payload] } };
    case 'secretPromptClosed':
      return { ...state, snapshot: { ...s, secretPrompts: s.secretPrompts.filter((p) => p.id !== e.payload.id) } };
  }
}
