import { describe, expect, it } from 'vitest';
import { cpuMs, cpuPercent, percentile, ratio, spreadPick, splitEvenly, summarizeLatencies } from '../../../../bench/agents/stats.ts';

describe('benchmark arithmetic', () => {
  it('takes nearest-rank percentiles, so p99 of 100 values is the 99th', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });

  it('summarizes unsorted latencies and reports nothing arrived as nulls', () => {
    expect(summarizeLatencies([30, 10, 20])).toEqual({ count: 3, p50: 20, p90: 30, p99: 30, max: 30 });
    expect(summarizeLatencies([])).toEqual({ count: 0, p50: null, p90: null, p99: null, max: null });
  });

  it('turns cpuUsage readings into ms and a share of one core', () => {
    const used = cpuMs({ cpuUserMicros: 1_000, cpuSystemMicros: 500 }, { cpuUserMicros: 151_000, cpuSystemMicros: 50_500 });
    expect(used).toBe(200);
    expect(cpuPercent(used, 1000)).toBe(20);
    expect(cpuPercent(used, 0)).toBe(0);
  });

  it('gives no ratio when a side is missing or zero', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(null, 2)).toBeNull();
    expect(ratio(3, 0)).toBeNull();
  });

  it('splits 15,000 agents into six slices of 2,500 with none lost or repeated', () => {
    const items = Array.from({ length: 15_000 }, (_, i) => i);
    const slices = splitEvenly(items, Math.ceil(items.length / 2500));
    expect(slices.map((s) => s.length)).toEqual([2500, 2500, 2500, 2500, 2500, 2500]);
    expect(slices.flat()).toEqual(items);
    expect(splitEvenly([1, 2, 3], 2).map((s) => s.length)).toEqual([1, 2]);
  });

  it('picks burst targets that are distinct and spread over every slice', () => {
    const items = Array.from({ length: 2000 }, (_, i) => i);
    const picked = spreadPick(items, 1000);
    expect(new Set(picked).size).toBe(1000);
    expect(picked[0]).toBe(0);
    expect(picked[999]).toBeGreaterThanOrEqual(1990);
    expect(spreadPick([1, 2], 5)).toEqual([1, 2]);
  });
});
