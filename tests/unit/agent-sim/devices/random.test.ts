import { describe, it, expect } from 'vitest';
import { SeededRandom, seedFromText } from '../../../../agent-sim/devices/random.ts';

function draws(random: SeededRandom, count: number): number[] {
  return Array.from({ length: count }, () => random.next());
}

describe('SeededRandom', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    expect(draws(new SeededRandom(1234), 50)).toEqual(draws(new SeededRandom(1234), 50));
    expect(draws(new SeededRandom(1234), 50)).not.toEqual(draws(new SeededRandom(1235), 50));
  });

  it('keeps every helper inside its range', () => {
    const random = new SeededRandom(99);
    const seen = { unit: new Set<boolean>(), between: new Set<boolean>(), integer: new Set<number>(), picked: new Set<string>() };
    let gaussiansFinite = true;
    for (let i = 0; i < 10_000; i += 1) {
      const unit = random.next();
      seen.unit.add(unit >= 0 && unit < 1);
      const value = random.between(-3, 7);
      seen.between.add(value >= -3 && value < 7);
      seen.integer.add(random.integer(2, 5));
      seen.picked.add(random.pick(['a', 'b', 'c']));
      gaussiansFinite &&= Number.isFinite(random.gaussian());
    }
    expect([...seen.unit]).toEqual([true]);
    expect([...seen.between]).toEqual([true]);
    expect([...seen.integer].sort()).toEqual([2, 3, 4, 5]);
    expect([...seen.picked].sort()).toEqual(['a', 'b', 'c']);
    expect(gaussiansFinite).toBe(true);
  });

  it('draws values with the expected spread', () => {
    const random = new SeededRandom(5);
    const n = 20_000;
    const normals = Array.from({ length: n }, () => random.gaussian());
    const mean = normals.reduce((a, b) => a + b, 0) / n;
    const variance = normals.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const hits = Array.from({ length: n }, () => random.chance(0.25)).filter(Boolean).length;
    expect(hits / n).toBeCloseTo(0.25, 1);
    const faces = new Set(Array.from({ length: 1000 }, () => random.integer(1, 6)));
    expect([...faces].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses to pick from an empty list', () => {
    expect(() => new SeededRandom(1).pick([])).toThrow(/empty/);
  });
});

describe('seedFromText', () => {
  it('gives a stable, distinct seed per serial', () => {
    expect(seedFromText('SFX-000001')).toBe(seedFromText('SFX-000001'));
    expect(seedFromText('SFX-000001')).not.toBe(seedFromText('SFX-000002'));
    expect(Number.isInteger(seedFromText('RAD-1'))).toBe(true);
    expect(seedFromText('RAD-1')).toBeGreaterThanOrEqual(0);
  });
});
