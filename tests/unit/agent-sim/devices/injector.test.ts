import { describe, it, expect } from 'vitest';
import { INJECTOR_PROFILES, type InjectorModelId } from '../../../../agent-sim/devices/index.ts';
import { isRaised, onFakeClock } from './fake-clock.ts';

const INJECTORS: readonly InjectorModelId[] = ['stellant-flex', 'mrxperion', 'mark7-arterion'];

describe.each(INJECTORS)('%s injection cycle', (modelId) => {
  const profile = INJECTOR_PROFILES[modelId];

  it('cycles idle → armed → injecting → idle, drawing contrast and counting injections', () => {
    const sim = onFakeClock(modelId);
    const startCount = sim.device.read(['injectionCount'])['injectionCount'] as number;
    const states: string[] = [];
    const flows = new Set<number>();
    let peakDuringInjection = 0;
    let volumeDrawn = false;
    let lastVolumeA = sim.device.read(['syringeA.volume'])['syringeA.volume'] as number;
    sim.ticks(1_000, () => {
      const v = sim.device.read();
      if (states.at(-1) !== v['state']) states.push(String(v['state']));
      expect(v['state']).toBe(sim.device.state());
      if (v['state'] === 'injecting') {
        flows.add(v['flowRate'] as number);
        peakDuringInjection = Math.max(peakDuringInjection, v['pressure.peak'] as number);
        if ((v['syringeA.volume'] as number) < lastVolumeA) volumeDrawn = true;
      }
      lastVolumeA = v['syringeA.volume'] as number;
    });

    expect(states.join(' ')).toContain('idle armed injecting idle');
    expect(new Set(states)).toEqual(new Set(['idle', 'armed', 'injecting']));
    for (const flow of flows) {
      expect(flow).toBeGreaterThanOrEqual(profile.flowRate.min);
      expect(flow).toBeLessThanOrEqual(profile.flowRate.max);
    }
    expect(peakDuringInjection).toBeGreaterThan(0);
    expect(peakDuringInjection).toBeLessThan(profile.pressureLimit);
    expect(volumeDrawn).toBe(true);

    const completed = sim.events('injection.completed');
    expect(completed.length).toBeGreaterThan(5);
    expect(completed[0]?.message).toMatch(/^Injection completed: \d+ mL contrast( \+ \d+ mL saline)? at \d+\.\d mL\/s$/);
    expect(sim.device.read(['injectionCount'])['injectionCount']).toBe(startCount + completed.length);
    expect(sim.events('syringe.refilled')[0]?.message).toMatch(/^Syringe [AB] refilled: \d+ mL$/);
    expect(sim.alarms()).toEqual([]);
  });

  it('re-raises PRESSURE_LIMIT while a pressure fault aborts repeated injections, clearing only after the fault', () => {
    const sim = onFakeClock(modelId);
    sim.ticks(20);
    const count = sim.device.read(['injectionCount'])['injectionCount'];
    sim.device.injectFault('pressure-fault');
    sim.ticks(60);

    const alarms = sim.alarms('PRESSURE_LIMIT');
    expect(alarms.length).toBeGreaterThanOrEqual(5);
    expect(alarms.every((a) => a.action === 'raise')).toBe(true);
    expect(alarms[0]).toMatchObject({ severity: 'major' });
    expect(sim.events('injection.aborted').length).toBeGreaterThanOrEqual(5);
    expect(sim.events('injection.aborted')[0]?.message).toContain(`${profile.pressureLimit} psi pressure limit (E-PRESS-07)`);
    expect(sim.device.read(['errorCode'])).toEqual({ errorCode: 'E-PRESS-07' });
    expect(sim.device.read(['injectionCount'])['injectionCount']).toBe(count);
    expect(sim.signals.some((s) => s.kind === 'data' && s.key === 'state' && s.value === 'fault')).toBe(true);

    sim.device.clearFault('pressure-fault');
    expect(sim.ticksUntil(() => !isRaised(sim, 'PRESSURE_LIMIT'), 5)).toBe(1);
    expect(sim.device.read(['errorCode', 'state'])).toEqual({ errorCode: '', state: 'idle' });
    sim.ticks(200);
    expect(sim.device.read(['injectionCount'])['injectionCount']).toBeGreaterThan(count as number);
  });
});

describe('injector battery and temperature', () => {
  it('drains the battery slowly and recharges it without ever reaching the low-battery alarm', () => {
    const sim = onFakeClock('stellant-flex');
    const levels: number[] = [];
    sim.ticks(20_000, () => levels.push(sim.device.read(['battery'])['battery'] as number));
    expect(Math.min(...levels)).toBeGreaterThanOrEqual(30);
    expect(levels.some((level, i) => i > 0 && level > (levels[i - 1] ?? 0))).toBe(true);
    expect(levels.some((level, i) => i > 0 && level < (levels[i - 1] ?? 0))).toBe(true);
    expect(sim.alarms('LOW_BATTERY')).toEqual([]);
  });

  it('keeps the temperature near 24 °C until cooling fails, then recovers below the clear level', () => {
    const sim = onFakeClock('mrxperion');
    const temperature = () => sim.device.read(['temperature'])['temperature'] as number;
    sim.ticks(500);
    expect(Math.abs(temperature() - 24)).toBeLessThan(2);
    sim.device.injectFault('over-temperature');
    sim.ticks(2);
    expect(temperature()).toBeGreaterThan(40);
    expect(sim.alarms('OVER_TEMPERATURE')).toMatchObject([{ action: 'raise', severity: 'major' }]);
    sim.device.clearFault('over-temperature');
    sim.ticks(3);
    expect(temperature()).toBeLessThan(37);
  });
});

describe('intego infusion', () => {
  it('infuses doses from its vial, loading a new vial when it runs low', () => {
    const sim = onFakeClock('intego');
    const states = new Set<string>();
    sim.ticks(3_000, () => states.add(sim.device.state()));
    expect(states).toEqual(new Set(['idle', 'armed', 'infusing']));
    expect(sim.events('infusion.completed')[0]?.message).toMatch(/^Infusion completed: \d+ MBq at \d\.\d mL\/s$/);
    expect(sim.events('vial.loaded')[0]?.message).toMatch(/^New FDG vial loaded: \d+ MBq$/);
  });

  it('lets the vial decay with the F-18 half-life (about 110 minutes) while nothing is infused', () => {
    const sim = onFakeClock('intego', { seed: 3 });
    const activity = () => sim.device.read(['activity'])['activity'] as number;
    // An occlusion aborts every attempt, so only decay changes the activity.
    sim.device.injectFault('pressure-fault');
    sim.ticks(1);
    const before = activity();
    sim.ticks((109.77 * 60) / 2);
    expect(activity() / before).toBeCloseTo(0.5, 2);
  });

  it('shows a line occlusion as E-OCCL-03, stopped flow and the OCCLUSION alarm', () => {
    const sim = onFakeClock('intego');
    sim.ticks(40);
    sim.device.injectFault('pressure-fault');
    expect(sim.events('fault.injected')[0]?.message).toBe('Infusion line occlusion injected');
    sim.ticks(1);
    expect(sim.device.read(['errorCode', 'flowRate', 'state'])).toEqual({ errorCode: 'E-OCCL-03', flowRate: 0, state: 'fault' });
    expect(sim.alarms('OCCLUSION')).toMatchObject([{ action: 'raise', severity: 'major', message: 'Infusion line occluded (E-OCCL-03)' }]);
    sim.ticks(30);
    expect(sim.alarms('OCCLUSION')).toHaveLength(1);
    sim.device.clearFault('pressure-fault');
    sim.ticks(1);
    expect(sim.alarms('OCCLUSION').at(-1)?.action).toBe('clear');
    expect(sim.device.read(['errorCode'])).toEqual({ errorCode: '' });
  });
});
