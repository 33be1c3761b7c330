/**
 * Progress arithmetic of a transfer, kept pure so it is tested without moving bytes:
 * speed as a moving average over the last few seconds, the time left at that speed, and
 * a gate that lets progress out a few times a second at most.
 */

/** Samples of the speed meter are at least this far apart (the newest one excepted). */
const SAMPLE_SPACING_MS = 100;

/** Speed over a sliding window of (time, bytes) samples: smooth, and quick to reach 0 when bytes stop. */
export class SpeedMeter {
  private readonly samples: { at: number; bytes: number }[] = [];

  constructor(
    private readonly windowMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records the running total of bytes moved (it never goes down; a smaller total restarts the meter). */
  record(totalBytes: number): void {
    const at = this.now();
    if (totalBytes < (this.samples.at(-1)?.bytes ?? 0)) this.samples.length = 0;
    // bytes arrive one TLS record at a time (thousands a second): the newest sample moves on
    // until it is `SAMPLE_SPACING_MS` past the one before it, so the window holds a few dozen
    const [before, last] = [this.samples.at(-2), this.samples.at(-1)];
    if (before && last && at - before.at < SAMPLE_SPACING_MS) {
      last.at = at;
      last.bytes = totalBytes;
    } else {
      this.samples.push({ at, bytes: totalBytes });
    }
    this.trim(at);
  }

  /** Bytes per second over the window; 0 with fewer than two samples or nothing moved lately. */
  bytesPerSecond(): number {
    const at = this.now();
    this.trim(at);
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last === first) return 0;
    // the window reaches up to now: a stall lowers the speed even before a new sample
    const span = Math.max(at, last.at) - first.at;
    return span > 0 ? ((last.bytes - first.bytes) * 1000) / span : 0;
  }

  reset(): void {
    this.samples.length = 0;
  }

  private trim(at: number): void {
    // keep one sample older than the window, so a steady rate is measured over the whole window
    while (this.samples.length >= 2 && this.samples[1]!.at <= at - this.windowMs) this.samples.shift();
    if (this.samples.length === 1 && this.samples[0]!.at < at - this.windowMs) this.samples.shift();
  }
}

/** Seconds left at `bytesPerSecond`, or null when unknown (no size, or nothing moving). */
export function etaSeconds(size: number | null, done: number, bytesPerSecond: number): number | null {
  if (size === null || bytesPerSecond <= 0) return null;
  return Math.max(0, Math.ceil((size - done) / bytesPerSecond));
}

/**
 * Lets a notification through at most once per `intervalMs`; one held back is sent when
 * the interval is over (`schedule` arms that timer), so the last state always arrives.
 */
export class Throttle {
  private lastAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly fire: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Fires now if the interval passed, else once when it does. */
  request(): void {
    if (this.timer) return;
    const wait = this.lastAt + this.intervalMs - this.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref?.();
  }

  /** Fires now (a state change must not wait behind progress). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastAt = this.now();
    this.fire();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
