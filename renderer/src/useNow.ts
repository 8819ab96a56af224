import { useSyncExternalStore } from 'react';

// The wall clock as an external store, in whole seconds: components that show a live duration
// re-render once a second while `active`, and read the current time (never a stale one) when
// they become active.
const tick = (onChange: () => void) => {
  const t = setInterval(onChange, 1000);
  return () => clearInterval(t);
};
const still = () => () => {};
const currentSecond = () => Math.floor(Date.now() / 1000);

/** Milliseconds since the epoch, to the second; refreshed every second while `active`. */
export function useNow(active: boolean): number {
  return useSyncExternalStore(active ? tick : still, currentSecond) * 1000;
}
