import { describe, it, expect } from 'vitest';
import {
  DEVICE_FAULTS,
  FAULTS_BY_KIND,
  INJECTOR_PROFILES,
  InfusionDevice,
  InjectorDevice,
  RadimetricsDevice,
  createSimulatedDevice,
  isDeviceFault,
  type DeviceFault,
  type InjectorModelId,
} from '../../../../agent-sim/devices/index.ts';
import type { DataValue } from '#contract/common';
import { DEVICE_MODELS, DEVICE_MODEL_IDS, type DeviceKind, type DeviceModelId } from '#contract/device-models';
import { AlarmReportSchema, DataItemReportSchema, EventReportSchema } from '#contract/protocol/poll';
import { isRaised, onFakeClock } from './fake-clock.ts';

const ALARM_FOR_FAULT: Readonly<Record<DeviceKind, Partial<Record<DeviceFault, string>>>> = {
  injector: { 'pressure-fault': 'PRESSURE_LIMIT', 'low-battery': 'LOW_BATTERY', 'over-temperature': 'OVER_TEMPERATURE' },
  infusion: { 'pressure-fault': 'OCCLUSION', 'low-battery': 'LOW_BATTERY', 'over-temperature': 'OVER_TEMPERATURE' },
  server: { 'disk-full': 'DISK_FULL', 'service-down': 'SERVICE_DOWN', 'queue-backlog': 'QUEUE_BACKLOG' },
};

/** Values that no real device of the model could report. */
function outOfRange(modelId: DeviceModelId, values: Record<string, DataValue>): string[] {
  const problems: string[] = [];
  const within = (key: string, min: number, max: number, whole = false) => {
    const value = values[key];
    const ok = typeof value === 'number' && value >= min && value <= max && (!whole || Number.isInteger(value));
    if (!ok) problems.push(`${key}=${String(value)} outside ${min}..${max}`);
  };
  const kind = DEVICE_MODELS[modelId].kind;
  if (kind === 'injector') {
    const profile = INJECTOR_PROFILES[modelId as InjectorModelId];
    within('syringeA.volume', 0, profile.syringe.A);
    within('syringeB.volume', 0, profile.syringe.B);
    within('flowRate', 0, profile.flowRate.max);
    within('pressure.limit', profile.pressureLimit, profile.pressureLimit);
    within('pressure.peak', 0, profile.pressureLimit * 1.1);
    within('temperature', 10, 50);
    within('injectionCount', 0, Number.MAX_SAFE_INTEGER, true);
  } else if (kind === 'infusion') {
    within('activity', 0, 25_000);
    within('flowRate', 0, 2);
    within('shielding.temperature', 10, 50);
    within('infusionCount', 0, Number.MAX_SAFE_INTEGER, true);
  } else {
    within('cpu', 0, 100);
    within('memory', 0, 100);
    within('disk', 0, 100);
    within('db.size', 1, 10_000);
    within('queue.dicom', 0, 5_000, true);
    within('queue.hl7', 0, 10_000, true);
  }
  if (kind !== 'server') within('battery', 0, 100);
  return problems;
}

describe.each(DEVICE_MODEL_IDS)('simulated %s', (modelId) => {
  const model = DEVICE_MODELS[modelId];

  it('reports every catalog data item with the catalog type, and nothing else', () => {
    const sim = onFakeClock(modelId);
    const before = sim.device.read();
    sim.ticks(1);
    const values = sim.device.read();
    expect(Object.keys(values).sort()).toEqual(model.dataItems.map((item) => item.key).sort());
    expect(Object.keys(before).sort()).toEqual(Object.keys(values).sort());
    for (const item of model.dataItems) expect(typeof values[item.key], item.key).toBe(item.type);
    const reported = sim.signals.flatMap((s) => (s.kind === 'data' ? [s.key] : []));
    expect(reported.sort()).toEqual(Object.keys(values).sort());
  });

  it('stays within physical ranges over 5,000 ticks, faults included, and emits only valid reports', () => {
    const sim = onFakeClock(modelId);
    const faults = FAULTS_BY_KIND[model.kind];
    const problems = new Set<string>();
    let tick = 0;
    sim.ticks(5_000, () => {
      tick += 1;
      const fault = faults[Math.floor(tick / 250) % faults.length];
      if (fault && tick % 250 === 0) sim.device.injectFault(fault);
      if (fault && tick % 250 === 100) sim.device.clearFault(fault);
      for (const problem of outOfRange(modelId, sim.device.read())) problems.add(problem);
    });
    expect([...problems]).toEqual([]);
    const invalid = sim.signals.filter((s) => {
      if (s.kind === 'data') return !DataItemReportSchema.safeParse(s).success;
      if (s.kind === 'event') return !EventReportSchema.safeParse(s.report).success;
      return !AlarmReportSchema.safeParse(s.report).success;
    });
    expect(invalid).toEqual([]);
    expect(sim.events().filter((e) => e.severity === 'info' && e.type !== 'fault.cleared').length).toBeGreaterThan(0);
  });

  it('tells the same story for the same seed and a different one for another seed', () => {
    const first = onFakeClock(modelId, { seed: 11 });
    const again = onFakeClock(modelId, { seed: 11 });
    const other = onFakeClock(modelId, { seed: 12 });
    for (const sim of [first, again, other]) sim.ticks(1_000);
    expect(again.signals).toEqual(first.signals);
    expect(other.signals).not.toEqual(first.signals);
  });

  it.each(FAULTS_BY_KIND[model.kind])('raises the alarm for %s within two ticks and clears it after the fault is cleared', (fault) => {
    const code = ALARM_FOR_FAULT[model.kind][fault];
    expect(code, `alarm for ${fault}`).toBeDefined();
    if (!code) return;
    const sim = onFakeClock(modelId);
    sim.ticks(30);
    expect(isRaised(sim, code)).toBe(false);

    sim.device.injectFault(fault);
    expect(sim.device.faults.has(fault)).toBe(true);
    expect(sim.events('fault.injected')).toMatchObject([{ severity: 'warning', data: { fault } }]);
    expect(sim.ticksUntil(() => isRaised(sim, code), 10)).toBeLessThanOrEqual(2);
    sim.ticks(20);
    expect(isRaised(sim, code)).toBe(true);

    sim.device.clearFault(fault);
    expect(sim.device.faults.size).toBe(0);
    expect(sim.events('fault.cleared')).toMatchObject([{ severity: 'info', data: { fault } }]);
    expect(sim.ticksUntil(() => !isRaised(sim, code), 20)).toBeLessThanOrEqual(6);
  });

  it('refuses faults that do not apply to the model', () => {
    const sim = onFakeClock(modelId);
    const foreign = DEVICE_FAULTS.filter((fault) => !FAULTS_BY_KIND[model.kind].includes(fault));
    expect(foreign.length).toBeGreaterThan(0);
    for (const fault of foreign) {
      expect(() => sim.device.injectFault(fault)).toThrow(new RegExp(`"${fault}" does not apply to ${modelId}`));
    }
    expect(sim.device.faults.size).toBe(0);
    expect(sim.events()).toEqual([]);
  });

  it('clears every fault at once with clearFaults()', () => {
    const sim = onFakeClock(modelId);
    for (const fault of FAULTS_BY_KIND[model.kind]) sim.device.injectFault(fault);
    sim.device.injectFault(FAULTS_BY_KIND[model.kind][0] ?? 'low-battery');
    expect(sim.events('fault.injected')).toHaveLength(FAULTS_BY_KIND[model.kind].length);
    sim.ticks(5);
    sim.device.clearFaults();
    expect(sim.device.faults.size).toBe(0);
    sim.ticks(20);
    const standing = new Set(sim.alarms().map((a) => a.code).filter((code) => isRaised(sim, code)));
    expect([...standing]).toEqual([]);
  });
});

describe('createSimulatedDevice', () => {
  it('picks the simulation by model and reports the model software unless told otherwise', () => {
    const make = (modelId: DeviceModelId, softwareVersion?: string) =>
      createSimulatedDevice({ serial: 'X-1', modelId, ...(softwareVersion ? { softwareVersion } : {}) });
    expect(make('stellant-flex')).toBeInstanceOf(InjectorDevice);
    expect(make('mrxperion')).toBeInstanceOf(InjectorDevice);
    expect(make('mark7-arterion')).toBeInstanceOf(InjectorDevice);
    expect(make('intego')).toBeInstanceOf(InfusionDevice);
    expect(make('radimetrics')).toBeInstanceOf(RadimetricsDevice);
    expect(make('stellant-flex').softwareVersion).toBe('4.2.1');
    expect(make('radimetrics').softwareVersion).toBe('3.1.0');
    expect(make('intego', '9.9.9').softwareVersion).toBe('9.9.9');
    expect(make('mark7-arterion').state()).toBe('idle');
    expect(make('radimetrics').state()).toBe('running');
  });

  it('seeds each device from its serial when no seed is given', () => {
    const values = (serial: string) => {
      const device = createSimulatedDevice({ serial, modelId: 'radimetrics', now: () => 0 });
      device.tick(1);
      return device.read();
    };
    expect(values('RAD-1')).toEqual(values('RAD-1'));
    expect(values('RAD-1')).not.toEqual(values('RAD-2'));
  });
});

describe('isDeviceFault', () => {
  it('accepts the known faults and nothing else', () => {
    for (const fault of DEVICE_FAULTS) expect(isDeviceFault(fault)).toBe(true);
    expect(isDeviceFault('network-flap')).toBe(false);
    expect(isDeviceFault('')).toBe(false);
  });
});
