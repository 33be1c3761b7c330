import { afterEach, describe, it, expect, vi } from 'vitest';
import type { DeviceSignal } from '../../../../agent-sim/agent/device.ts';
import type { LogSource, SelfTestCheck } from '../../../../agent-sim/devices/diagnostics.ts';
import {
  SimulatedDevice,
  type SettingValue,
  type ThresholdRule,
  numberAt,
} from '../../../../agent-sim/devices/simulated-device.ts';
import type { AlarmReport } from '#contract/protocol/poll';

/** A server whose CPU follows a script, to exercise the base class's alarm rules. */
class ScriptedServer extends SimulatedDevice {
  readonly cpuScript: number[] = [];

  constructor(rules: readonly ThresholdRule[]) {
    super({ serial: 'RAD-TEST', modelId: 'radimetrics', now: () => 1_000 }, { rules, deadbands: { cpu: 2 } });
  }

  state(): string {
    return 'running';
  }

  protected advance(): void {
    this.set('cpu', this.cpuScript.shift() ?? 0);
  }

  protected selfTestChecks(): SelfTestCheck[] {
    return [];
  }

  protected configuration(): Record<string, SettingValue> {
    return {};
  }

  protected logSources(): LogSource[] {
    return [];
  }

  protected protocolsXml(): string {
    return '';
  }
}

const CPU_RULE: ThresholdRule = {
  code: 'CPU_HIGH',
  severity: 'warning',
  message: (v) => `CPU at ${numberAt(v, 'cpu')} %`,
  raise: (v) => numberAt(v, 'cpu') >= 95,
  clear: (v) => numberAt(v, 'cpu') < 85,
};

function alarmsOf(device: SimulatedDevice): AlarmReport[] {
  const alarms: AlarmReport[] = [];
  device.subscribe((s) => {
    if (s.kind === 'alarm') alarms.push(s.report);
  });
  return alarms;
}

function run(device: ScriptedServer, cpu: number[]): void {
  device.cpuScript.push(...cpu);
  for (let i = 0; i < cpu.length; i += 1) device.tick(1_000 + i);
}

describe('SimulatedDevice threshold rules', () => {
  it('raises once when the condition is met and clears only below the clear level (hysteresis)', () => {
    const device = new ScriptedServer([CPU_RULE]);
    const alarms = alarmsOf(device);
    run(device, [50, 96, 97, 90, 96, 86, 84, 90]);
    expect(alarms.map((a) => a.action)).toEqual(['raise', 'clear']);
    expect(alarms[0]).toMatchObject({ code: 'CPU_HIGH', severity: 'warning', message: 'CPU at 96 %', at: 1_001 });
    expect(alarms[1]).toMatchObject({ code: 'CPU_HIGH', at: 1_006 });
  });

  it('waits for raiseAfterTicks consecutive ticks before raising', () => {
    const device = new ScriptedServer([{ ...CPU_RULE, raiseAfterTicks: 3 }]);
    const alarms = alarmsOf(device);
    run(device, [96, 97, 50, 96, 96]);
    expect(alarms).toEqual([]);
    run(device, [98]);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.action).toBe('raise');
  });

  it('re-raises every repeatEveryTicks while the condition still holds, without clearing', () => {
    const device = new ScriptedServer([{ ...CPU_RULE, repeatEveryTicks: 3 }]);
    const alarms = alarmsOf(device);
    run(device, [96, 96, 96, 96, 96, 96, 96]);
    expect(alarms.map((a) => a.action)).toEqual(['raise', 'raise', 'raise']);
    run(device, [90, 90, 90, 90]);
    expect(alarms).toHaveLength(3);
  });

  it('reports every data item on every tick, stamped with the tick time', () => {
    const device = new ScriptedServer([]);
    const data: DeviceSignal[] = [];
    device.subscribe((s) => data.push(s));
    device.cpuScript.push(42);
    device.tick(5_000);
    expect(data).toHaveLength(10);
    expect(data).toContainEqual({ kind: 'data', key: 'cpu', value: 42, at: 5_000 });
  });
});

describe('SimulatedDevice subscriptions and reads', () => {
  it('stops delivering to a listener once it unsubscribes', () => {
    const device = new ScriptedServer([]);
    const kept: DeviceSignal[] = [];
    const dropped: DeviceSignal[] = [];
    device.subscribe((s) => kept.push(s));
    const unsubscribe = device.subscribe((s) => dropped.push(s));
    device.tick(1);
    unsubscribe();
    device.tick(2);
    expect(kept).toHaveLength(20);
    expect(dropped).toHaveLength(10);
  });

  it('reads all items, or only the named ones, omitting unknown keys', () => {
    const device = new ScriptedServer([]);
    device.cpuScript.push(12);
    device.tick(1);
    expect(Object.keys(device.read())).toHaveLength(10);
    expect(device.read(['cpu', 'nope', 'toString', '__proto__'])).toEqual({ cpu: 12 });
  });

  it('declares deadbands for numbers and 0 for everything else', () => {
    const device = new ScriptedServer([]);
    expect(device.deadband('cpu')).toBe(2);
    expect(device.deadband('service.web')).toBe(0);
    expect(device.deadband('unknown')).toBe(0);
  });
});

describe('SimulatedDevice timer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks every tickMs once started and never again after stop()', () => {
    vi.useFakeTimers();
    const device = new ScriptedServer([]);
    let ticks = 0;
    device.subscribe((s) => {
      if (s.kind === 'data' && s.key === 'cpu') ticks += 1;
    });
    device.start();
    device.start();
    vi.advanceTimersByTime(device.tickMs * 10);
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(ticks).toBeLessThanOrEqual(11);
    device.stop();
    const atStop = ticks;
    vi.advanceTimersByTime(device.tickMs * 10);
    expect(ticks).toBe(atStop);
  });

  it('does not tick when stopped before its first tick', () => {
    vi.useFakeTimers();
    const device = new ScriptedServer([]);
    const signals: DeviceSignal[] = [];
    device.subscribe((s) => signals.push(s));
    device.start();
    device.stop();
    vi.advanceTimersByTime(device.tickMs * 5);
    expect(signals).toEqual([]);
  });
});
