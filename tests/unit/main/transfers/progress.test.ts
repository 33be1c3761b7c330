import { afterEach, describe, expect, it, vi } from 'vitest';
import { SpeedMeter, Throttle, etaSeconds } from '../../../../src/main/services/transfers/progress.ts';

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('transfer speed', () => {
  it('averages over the window: a steady 1 MB/s reads 1 MB/s', () => {
    const t = clock();
    const meter = new SpeedMeter(5000, t.now);
    for (let i = 0; i <= 10; i++) {
      meter.record(i * 500_000);
      t.advance(500);
    }
    t.advance(-500);
    expect(meter.bytesPerSecond()).toBeCloseTo(1_000_000, -3);
  });

  it('reads a steady rate right when bytes come in thousands of small pieces a second, keeping only a few dozen samples', () => {
    const t = clock();
    const meter = new SpeedMeter(5000, t.now);
    // 16 KiB every 0.2 ms (one TLS record at about 80 MB/s) for 8 s
    for (let i = 0; i <= 40_000; i++) {
      meter.record(i * 16_384);
      t.advance(0.2);
    }
    t.advance(-0.2);
    expect(meter.bytesPerSecond()).toBeCloseTo(16_384 / 0.0002, -5);
    expect((meter as unknown as { samples: unknown[] }).samples.length).toBeLessThanOrEqual(5000 / 100 + 2);
  });

  it('smooths a burst: one fast second among slow ones does not read as the fast speed', () => {
    const t = clock();
    const meter = new SpeedMeter(5000, t.now);
    let total = 0;
    for (const perSecond of [100_000, 100_000, 100_000, 100_000, 2_000_000]) {
      meter.record(total);
      t.advance(1000);
      total += perSecond;
    }
    meter.record(total);
    const speed = meter.bytesPerSecond();
    expect(speed).toBeGreaterThan(100_000);
    expect(speed).toBeLessThan(1_000_000);
  });

  it('falls when bytes stop, and reads 0 once the window has passed', () => {
    const t = clock();
    const meter = new SpeedMeter(5000, t.now);
    meter.record(0);
    t.advance(1000);
    meter.record(1_000_000);
    const moving = meter.bytesPerSecond();
    t.advance(3000);
    expect(meter.bytesPerSecond()).toBeLessThan(moving);
    t.advance(10_000);
    expect(meter.bytesPerSecond()).toBe(0);
  });

  it('knows nothing from a single sample, and restarts when the total goes back (a new stage)', () => {
    const t = clock();
    const meter = new SpeedMeter(5000, t.now);
    meter.record(5000);
    expect(meter.bytesPerSecond()).toBe(0);
    t.advance(1000);
    meter.record(10_000);
    expect(meter.bytesPerSecond()).toBe(5000);
    t.advance(1000);
    meter.record(0);
    expect(meter.bytesPerSecond()).toBe(0);
  });
});

describe('time left', () => {
  it('is what remains at the current speed, rounded up', () => {
    expect(etaSeconds(10_000_000, 4_000_000, 1_000_000)).toBe(6);
    expect(etaSeconds(1000, 999, 3)).toBe(1);
    expect(etaSeconds(1000, 1000, 50)).toBe(0);
  });

  it('is unknown without a size or while nothing moves', () => {
    expect(etaSeconds(null, 0, 1000)).toBeNull();
    expect(etaSeconds(1000, 0, 0)).toBeNull();
  });
});

describe('the progress gate', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets progress out at most once per interval, and the last one always arrives', () => {
    vi.useFakeTimers();
    let fired = 0;
    const gate = new Throttle(250, () => (fired += 1), () => Date.now());
    gate.request();
    expect(fired).toBe(1);
    for (let i = 0; i < 20; i++) gate.request();
    expect(fired).toBe(1);
    vi.advanceTimersByTime(250);
    expect(fired).toBe(2);
    vi.advanceTimersByTime(1000);
    expect(fired).toBe(2);
  });

  it('passes a state change at once, even right after progress', () => {
    vi.useFakeTimers();
    let fired = 0;
    const gate = new Throttle(250, () => (fired += 1), () => Date.now());
    gate.request();
    gate.request();
    gate.flush();
    expect(fired).toBe(2);
    vi.advanceTimersByTime(500);
    expect(fired).toBe(2);
  });
});
