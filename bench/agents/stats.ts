/** Pure arithmetic of the benchmark: percentiles, rates, slices. No I/O. */

/** Dispatch latencies of one burst, in ms; null when nothing arrived. */
export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** The nearest-rank percentile (`p` in 0..100) of ascending `sorted`; null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

export function summarizeLatencies(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? (sorted[sorted.length - 1] ?? null) : null,
  };
}

/** CPU time between two `process.cpuUsage()` readings, in ms. */
export function cpuMs(before: { cpuUserMicros: number; cpuSystemMicros: number }, after: { cpuUserMicros: number; cpuSystemMicros: number }): number {
  return (after.cpuUserMicros - before.cpuUserMicros + after.cpuSystemMicros - before.cpuSystemMicros) / 1000;
}

/** CPU use over a wall-clock span, as a percentage of one core (200 % = both cores of a 2-core machine). */
export function cpuPercent(cpuTimeMs: number, wallMs: number): number {
  return wallMs > 0 ? (100 * cpuTimeMs) / wallMs : 0;
}

/** a / b, or null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return a / b;
}

/** Splits `items` into `parts` contiguous slices whose sizes differ by at most one. */
export function splitEvenly<T>(items: readonly T[], parts: number): T[][] {
  const count = Math.max(1, Math.min(parts, items.length || 1));
  return Array.from({ length: count }, (_, i) => items.slice(Math.floor((i * items.length) / count), Math.floor(((i + 1) * items.length) / count)));
}

/** `k` distinct items spread evenly over `items` (so a burst reaches every agent process). */
export function spreadPick<T>(items: readonly T[], k: number): T[] {
  const n = items.length;
  const take = Math.min(k, n);
  return Array.from({ length: take }, (_, i) => items[Math.floor((i * n) / take)] as T);
}
