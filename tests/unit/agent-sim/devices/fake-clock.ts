import type { DeviceSignal } from '../../../../agent-sim/agent/device.ts';
import { type SimulatedDevice, createSimulatedDevice } from '../../../../agent-sim/devices/index.ts';
import { DEVICE_MODELS, type DeviceModelId } from '#contract/device-models';
import type { AlarmReport, EventReport } from '#contract/protocol/poll';

/** Monday 6 January 2025, 09:00 UTC: working hours, so the server models are busy. */
export const START = Date.UTC(2025, 0, 6, 9, 0);

/** A simulated device on a fake clock, recording every signal it emits. */
export interface DeviceOnFakeClock {
  readonly device: SimulatedDevice;
  readonly signals: DeviceSignal[];
  /** Current fake time. */
  now(): number;
  /** Advances the clock by one tick interval `count` times, ticking the device each time. */
  ticks(count: number, afterEach?: () => void): void;
  /** Ticks until `done` holds; returns how many ticks that took, or Infinity after `max`. */
  ticksUntil(done: () => boolean, max: number): number;
  alarms(code?: string): AlarmReport[];
  events(type?: string): EventReport[];
}

export function onFakeClock(
  modelId: DeviceModelId,
  options: { seed?: number; start?: number } = {},
): DeviceOnFakeClock {
  let clock = options.start ?? START;
  const device = createSimulatedDevice({
    serial: `${DEVICE_MODELS[modelId].serialPrefix}-000001`,
    modelId,
    seed: options.seed ?? 7,
    now: () => clock,
  });
  const signals: DeviceSignal[] = [];
  device.subscribe((signal) => signals.push(signal));
  const tickOnce = () => {
    clock += device.tickMs;
    device.tick(clock);
  };
  return {
    device,
    signals,
    now: () => clock,
    ticks(count, afterEach) {
      for (let i = 0; i < count; i += 1) {
        tickOnce();
        afterEach?.();
      }
    },
    ticksUntil(done, max) {
      for (let i = 1; i <= max; i += 1) {
        tickOnce();
        if (done()) return i;
      }
      return Infinity;
    },
    alarms: (code) =>
      signals.flatMap((s) => (s.kind === 'alarm' && (code === undefined || s.report.code === code) ? [s.report] : [])),
    events: (type) =>
      signals.flatMap((s) => (s.kind === 'event' && (type === undefined || s.report.type === type) ? [s.report] : [])),
  };
}

/** Whether the most recent report for `code` is a raise (the alarm is standing). */
export function isRaised(sim: DeviceOnFakeClock, code: string): boolean {
  return sim.alarms(code).at(-1)?.action === 'raise';
}
