import type { DataValue } from '#contract/common';
import type { DeviceModelId } from '#contract/device-models';
import type { DeviceAdapter } from '../../agent-sim/agent/device.ts';

const FIXED_VALUES: Readonly<Record<string, DataValue>> = {
  'syringeA.volume': 200,
  'syringeB.volume': 200,
  battery: 100,
  state: 'idle',
};

/**
 * Equipment that never changes and never speaks: fixed values, no signals. The agent
 * sends these once at start (its initial full report) and then only polls, so telemetry
 * does not blur the dispatch measurement.
 */
export class QuietDevice implements DeviceAdapter {
  readonly modelId: DeviceModelId = 'stellant-flex';
  readonly softwareVersion = '1.0.0';

  constructor(readonly serial: string) {}

  state(): string {
    return 'idle';
  }

  read(keys?: readonly string[]): Record<string, DataValue> {
    if (!keys) return { ...FIXED_VALUES };
    return Object.fromEntries(keys.flatMap((key) => (key in FIXED_VALUES ? [[key, FIXED_VALUES[key] as DataValue]] : [])));
  }

  deadband(): number {
    return 0;
  }

  subscribe(): () => void {
    return () => undefined;
  }
}
