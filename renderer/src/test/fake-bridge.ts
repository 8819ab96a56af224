// A CausewayBridge for component tests: every call is a vi.fn with a sensible default, and
// `emit` pushes events as main would.
import { vi } from 'vitest';
import { callNames, type EventName, type Events } from '../../../app/ipc/schema';
import type { CausewayBridge } from '../bridge';
import { snapshot as makeSnapshot } from './fixtures';
import type { AppSnapshot } from '../../../app/ipc/types';

export type FakeBridge = CausewayBridge & {
  emit<E extends EventName>(event: E, payload: Events[E]): void;
  mocks: Record<string, ReturnType<typeof vi.fn>>;
};

export function fakeBridge(initial: AppSnapshot = makeSnapshot()): FakeBridge {
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const mocks: Record<string, ReturnType<typeof vi.fn>> = {};
  for (const n of callNames) mocks[n] = vi.fn(async () => undefined);
  mocks.getSnapshot!.mockImplementation(async () => initial);
  mocks.getLogs!.mockImplementation(async () => []);
  const bridge = {
    ...mocks,
    mocks,
    on(event: string, listener: (p: unknown) => void) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener);
      listeners.set(event, set);
      return () => set.delete(listener);
    },
    emit(event: string, payload: unknown) {
      listeners.get(event)?.forEach((l) => l(payload));
    },
  };
  return bridge as unknown as FakeBridge;
}
