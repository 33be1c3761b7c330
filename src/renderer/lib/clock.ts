import { useSyncExternalStore } from 'react';

/**
 * One shared timer per tick interval: every component showing a time of that kind
 * re-renders on the same tick, and the timer stops when none is shown.
 */
class Ticker {
  private readonly listeners = new Set<() => void>();
  private now = Date.now();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly tickMs: number) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    if (!this.timer) this.now = Date.now();
    this.timer ??= setInterval(() => {
      this.now = Date.now();
      for (const l of this.listeners) l();
    }, this.tickMs);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  };

  readonly snapshot = (): number => this.now;
}

const everyFewSeconds = new Ticker(5000);
const everySecond = new Ticker(1000);

/**
 * The current time, ticking every few seconds, for relative times ("12 s ago"): only the
 * components that show one re-render on a tick.
 */
export function useNow(): number {
  return useSyncExternalStore(everyFewSeconds.subscribe, everyFewSeconds.snapshot);
}

/** The current time, ticking every second, for countdowns ("42 s left", "Time left 29:58"). */
export function useSecondsNow(): number {
  return useSyncExternalStore(everySecond.subscribe, everySecond.snapshot);
}
