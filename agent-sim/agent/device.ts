import type { DataValue } from '#contract/common';
import type { DeviceModelId } from '#contract/device-models';
import type { DiagnosticName } from '#contract/protocol/diagnostics';
import type { AlarmReport, EventReport } from '#contract/protocol/poll';

/**
 * Something the equipment says: a data sample, an event, an alarm raised or cleared. A
 * sample marked `written` is a value someone set remotely: it is reported whatever the
 * dead band, so the console sees the change it asked for.
 */
export type DeviceSignal =
  | { kind: 'data'; key: string; value: DataValue; at: number; written?: boolean }
  | { kind: 'event'; report: EventReport }
  | { kind: 'alarm'; report: AlarmReport };

/** What a running diagnostic is given: when to stop, and where its progress and output go. */
export interface DiagnosticContext {
  /** Aborted when the engineer cancels, the session ends or the command runs out of time. */
  readonly signal: AbortSignal;
  /** How far it got (0–100), with an optional short phase description. */
  progress(percent: number, message?: string): void;
  /** One line of output for the engineer (streamed live). */
  log(line: string): void;
}

/**
 * Remote diagnostics a device offers (a subset of DIAGNOSTIC_CATALOG for its model). The
 * agent checks the session grant and the parameters first; `run` does the work on the
 * equipment, rejects promptly when the signal aborts, and resolves with a result that
 * matches the catalog's result schema.
 */
export interface DeviceDiagnostics {
  offered(): readonly DiagnosticName[];
  run(name: DiagnosticName, params: Record<string, unknown>, context: DiagnosticContext): Promise<unknown>;
}

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
  /** Remote diagnostics, when the device has any. */
  readonly diagnostics?: DeviceDiagnostics;
  /**
   * The host folder that stands for the device's file system: the model's roots
   * ("/logs", "/config", …) are folders inside it. Absent: the device offers no file work.
   */
  readonly filesDir?: string;
  /**
   * Where a tunnel target's port is reachable on the device's own network (host and
   * port to connect to), or undefined when the device has no such service. A promise,
   * because a device may start the service on first use (the simulator does).
   */
  serviceEndpoint?(targetId: string): Promise<ServiceEndpoint | undefined>;
}

/** A service port on the device's own network, as the agent connects to it for a tunnel. */
export interface ServiceEndpoint {
  host: string;
  port: number;
}

/** A device as a program that embeds the agent core gives it: the adapter, started and stopped with the agent. */
export interface PluggedDevice extends DeviceAdapter {
  start(): void;
  stop(): void;
}

/**
 * How equipment plugs into the agent's command line: the agent owns this interface and
 * never imports an implementation. The simulator plugs in its simulated models; a real
 * device would plug in its controller's adapter.
 */
export interface DevicePlug {
  /** The device of this model and serial; it keeps its files (if any) inside the agent's `dataDir`. */
  create(options: { modelId: DeviceModelId; serial: string; dataDir: string }): PluggedDevice;
}
