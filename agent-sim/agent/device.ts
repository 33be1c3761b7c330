import type { DataValue } from '../../src/shared/common.ts';
import type { DeviceModelId } from '../../src/shared/device-models.ts';
import type { AlarmReport, EventReport } from '../../src/shared/protocol/poll.ts';

/** Something the equipment says: a data sample, an event, an alarm raised or cleared. */
export type DeviceSignal =
  | { kind: 'data'; key: string; value: DataValue; at: number }
  | { kind: 'event'; report: EventReport }
  | { kind: 'alarm'; report: AlarmReport };

/**
 * The agent's view of the equipment it lives on. The simulator implements it for
 * simulated models; a real device implements it over its own controller interface.
 */
export interface DeviceAdapter {
  readonly serial: string;
  readonly modelId: DeviceModelId;
  readonly softwareVersion: string;
  /** What the device is doing now (idle, injecting, fault, …). */
  state(): string;
  /** Current values of all, or the named, data items. */
  read(keys?: readonly string[]): Record<string, DataValue>;
  /** Smallest numeric change worth reporting for `key` (0: any change). */
  deadband(key: string): number;
  subscribe(listener: (signal: DeviceSignal) => void): () => void;
}
