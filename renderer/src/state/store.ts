// Connects the bridge to React: subscribes to every event first, then asks for the snapshot, so
// nothing that happens in between is lost (events that arrive before the snapshot are queued and
// applied after it; applying them twice is harmless).
import { useSyncExternalStore } from 'react';
import { eventNames } from '../../../app/ipc/schema';
import type { CausewayBridge } from '../bridge';
import { initialState, reduce, type AppEvent, type AppState } from './reducer';

export interface Store {
  getState(): AppState;
  subscribe(listener: () => void): () => void;
  close(): void;
}

export function createStore(bridge: CausewayBridge): Store {
  let state = initialState;
  let pending: AppEvent[] | null = [];
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  const apply = (e: AppEvent) => {
    if (pending && e.event !== 'snapshot') {
      pending.push(e);
      return;
    }
    state = reduce(state, e);
    notify();
  };

  const offs = eventNames.map((event) => bridge.on(event, (payload) => apply({ event, payload } as AppEvent)));

  const loadSnapshot = async () => {
    const snapshot = await bridge.getSnapshot();
    state = reduce(state, { event: 'snapshot', payload: snapshot });
    const queued = pending ?? [];
    pending = null;
    for (const e of queued) state = reduce(state, e);
    notify();
  };
  loadSnapshot().catch((err: unknown) => {
    state = { ...state, loadError: err instanceof Error ? err.message : 'Causeway could not load its state.' };
    notify();
  });

  return {
    getState: () => state,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => offs.forEach((off) => off()),
  };
}

export function useAppState(store: Store): AppState {
  return useSyncExternalStore(store.subscribe, store.getState);
}
