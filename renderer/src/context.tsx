// What every view needs: the bridge, and a way to tell the user a call failed.
import { createContext, useContext } from 'react';
import type { CausewayBridge } from './bridge';

export interface AppServices {
  bridge: CausewayBridge;
  /** Shows a failed call's message in the app's alert line. */
  report(err: unknown): void;
}

export const ServicesContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const s = useContext(ServicesContext);
  if (!s) throw new Error('useServices outside ServicesContext');
  return s;
}
