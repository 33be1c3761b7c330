import { describe, expect, it } from 'vitest';
import { backoffDelay } from '#contract/backoff';

const policy = { baseMs: 100, maxMs: 10_000 };

describe('backoffDelay', () => {
  it('stays within [0, min(max, base·2^attempt)] for every attempt', () => {
    for (let attempt = 0; attempt <= 40; attempt += 1) {
      const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** attempt);
      for (let i = 0; i < 50; i += 1) {
        const delay = backoffDelay(policy, attempt);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(ceiling);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });

  it('grows with the attempt number until it reaches the cap', () => {
    const top = () => 0.999999;
    const delays = [0, 1, 2, 3, 4, 5, 6, 7].map((attempt) => backoffDelay(policy, attempt, top));
    expect(delays.slice(0, 7)).toEqual([99, 199, 399, 799, 1599, 3199, 6399]);
    for (let i = 1; i < delays.length; i += 1) expect(delays[i]).toBeGreaterThan(delays[i - 1] ?? Infinity);
  });

  it('is capped at maxMs however many attempts have failed', () => {
    const top = () => 0.999999;
    for (const attempt of [7, 10, 30, 31, 100, 10_000]) {
      const delay = backoffDelay(policy, attempt, top);
      expect(delay).toBeLessThanOrEqual(policy.maxMs);
      expect(delay).toBe(9999);
    }
  });

  it('returns exactly floor(random·ceiling) for a fixed random source', () => {
    expect(backoffDelay(policy, 0, () => 0.5)).toBe(50);
    expect(backoffDelay(policy, 3, () => 0.25)).toBe(200);
    expect(backoffDelay(policy, 20, () => 0.5)).toBe(5000);
    expect(backoffDelay(policy, 5, () => 0)).toBe(0);
  });

  it('spreads many callers across the whole range (full jitter), not one wave', () => {
    const delays = Array.from({ length: 2000 }, () => backoffDelay(policy, 20));
    const distinct = new Set(delays);
    expect(distinct.size).toBeGreaterThan(1000);
    expect(Math.min(...delays)).toBeLessThan(policy.maxMs * 0.1);
    expect(Math.max(...delays)).toBeGreaterThan(policy.maxMs * 0.9);
  });
});
