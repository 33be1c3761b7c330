import { useSyncExternalStore } from 'react';

const TICK_MS = 5000;
const listeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) now = Date.now();
  timer ??= setInterval(() => {
    now = Date.now();
    for (const l of listeners) l();
  }, TICK_MS);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

/**
 * The current time, ticking every few seconds on one shared timer, for relative times
 * ("12 s ago"): only the components that show one re-render on a tick.
 */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}
