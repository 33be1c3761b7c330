import { describe, expect, it } from 'vitest';
import { SIM_CUSTOMERS, planFleet } from '../../../agent-sim/fleet-plan.ts';
import { DEVICE_MODEL_IDS } from '#contract/device-models';
import { SerialSchema } from '#contract/common';

describe('simulated fleet plan', () => {
  it('covers the seed regions with several sites each', () => {
    expect(new Set(SIM_CUSTOMERS.map((c) => c.region))).toEqual(new Set(['us', 'uk', 'au', 'jp']));
    expect(SIM_CUSTOMERS.every((c) => c.sites.length >= 2)).toBe(true);
  });

  it('gives every model, every customer and unique valid serials from 20 devices on', () => {
    const plan = planFleet(20);
    expect(new Set(plan.map((d) => d.modelId))).toEqual(new Set(DEVICE_MODEL_IDS));
    expect(new Set(plan.map((d) => d.customerIndex)).size).toBe(SIM_CUSTOMERS.length);
    const serials = planFleet(10_000).map((d) => d.serial);
    expect(new Set(serials).size).toBe(serials.length);
    expect(serials.every((s) => SerialSchema.safeParse(s).success)).toBe(true);
  });

  it('is stable: device i keeps its serial and model as the fleet grows', () => {
    expect(planFleet(50).slice(0, 30)).toEqual(planFleet(30));
  });

  it('mixes models within each site', () => {
    const plan = planFleet(110);
    const site0 = plan.filter((d) => d.customerIndex === 0 && d.siteIndex === 0);
    expect(new Set(site0.map((d) => d.modelId)).size).toBeGreaterThanOrEqual(4);
  });
});
