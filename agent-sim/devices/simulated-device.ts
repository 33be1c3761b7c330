import { join } from 'node:path';
import type { AlarmSeverity, DataValue, EventSeverity } from '#contract/common';
import { DEVICE_MODELS, type DeviceModelId } from '#contract/device-models';
import { TetherError } from '#contract/errors';
import { diagnosticsFor, type DiagnosticName } from '#contract/protocol/diagnostics';
import type { DeviceAdapter, DeviceDiagnostics, DeviceSignal, DiagnosticContext, ServiceEndpoint } from '../agent/device.ts';
import type { EventReport } from '#contract/protocol/poll';
import { type ActiveAlarm, DeviceServices } from './services/device-services.ts';
import { type LogSource, type SelfTestCheck, collectLogBundle, diagnosticParams, pause, runSelfTest } from './diagnostics.ts';
import { type DeviceIdentity, type SeedFile, ageInDays, seedFileTree, seededLogs, serviceFiles, settingsFile } from './file-tree.ts';
import { SeededRandom, seedFromText } from './random.ts';

/** Faults a trainee (or the random-fault scheduler) can inject into simulated equipment. */
import { FAULTS_BY_KIND, type DeviceFault } from '#contract/sim-faults';

export { DEVICE_FAULTS, FAULTS_BY_KIND, isDeviceFault, type DeviceFault } from '#contract/sim-faults';

/** The software a simulated model reports when its options name none. */
export const DEFAULT_SOFTWARE_VERSIONS: Readonly<Record<DeviceModelId, string>> = {
  'stellant-flex': '4.2.1',
  mrxperion: '2.1.3',
  'mark7-arterion': '3.0.2',
  intego: '1.6.0',
  radimetrics: '3.1.0',
};

/** Current value of each data item, by catalog key. */
export type DeviceValues = Readonly<Record<string, DataValue>>;

/**
 * An alarm the equipment raises on its own values. Raise and clear are separate
 * conditions (hysteresis), so a value hovering at the limit does not flap.
 */
export interface ThresholdRule {
  readonly code: string;
  readonly severity: AlarmSeverity;
  /** Consecutive ticks the raise condition must hold before the alarm is raised (default 1). */
  readonly raiseAfterTicks?: number;
  /** While the raise condition still holds, raise again every this many ticks; the server counts repeats. */
  readonly repeatEveryTicks?: number;
  message(values: DeviceValues): string;
  raise(values: DeviceValues): boolean;
  clear(values: DeviceValues): boolean;
}

/** What tells simulated equipment apart, and what drives its clock. */
export interface SimulatedDeviceOptions {
  serial: string;
  modelId: DeviceModelId;
  /** Default: the model's entry in DEFAULT_SOFTWARE_VERSIONS. */
  softwareVersion?: string;
  /** Default: derived from the serial, so each device repeats its own story. */
  seed?: number;
  /** Interval between ticks when started (default 2000 ms). */
  tickMs?: number;
  /** One step of a simulated diagnostic (default 1000 ms; a self-test takes about six). */
  diagnosticStepMs?: number;
  /**
   * The host folder standing for the device's file system (DeviceAdapter.filesDir),
   * seeded with the model's tree when the device starts. Absent: no file work.
   */
  filesDir?: string;
  now?: () => number;
}

/** A configuration value as read-configuration reports it. */
export type SettingValue = string | number | boolean;

/** What a model declares about itself: its alarms and how much change is worth reporting. */
export interface DeviceBehaviour {
  readonly rules: readonly ThresholdRule[];
  readonly deadbands: Readonly<Record<string, number>>;
}

/** Numeric value of `key` (0 when missing or not a number), for threshold rules. */
export function numberAt(values: DeviceValues, key: string): number {
  const value = values[key];
  return typeof value === 'number' ? value : 0;
}

interface AlarmTracker {
  readonly rule: ThresholdRule;
  active: boolean;
  /** Consecutive ticks the raise condition has held while inactive. */
  heldTicks: number;
  ticksSinceRaise: number;
}

const DEFAULT_VALUES = { number: 0, string: '', boolean: false } as const;

/** Events the device remembers for its service page and console (`log`). */
const RECENT_EVENTS = 100;

const FAULT_LABELS: Readonly<Record<DeviceFault, string>> = {
  'pressure-fault': 'Pressure transducer fault',
  'low-battery': 'Battery failure',
  'over-temperature': 'Cooling failure',
  'disk-full': 'Disk full',
  'service-down': 'DICOM listener crash',
  'queue-backlog': 'DICOM processing stall',
};

/**
 * Simulated equipment: holds a value for every catalog data item of its model and, on
 * each tick, lets the model move its values, reports all of them (the agent applies
 * deadbands) and raises or clears the model's threshold alarms. Faults injected by a
 * trainee push the values until the matching alarm fires; clearing lets them recover.
 */
export abstract class SimulatedDevice implements DeviceAdapter {
  readonly serial: string;
  readonly modelId: DeviceModelId;
  readonly softwareVersion: string;
  readonly tickMs: number;
  readonly filesDir: string | undefined;
  protected readonly random: SeededRandom;
  /** Diagnostics draw from their own generator, so running one does not change the simulated story. */
  protected readonly diagnosticRandom: SeededRandom;
  protected readonly diagnosticStepMs: number;
  private readonly values: Record<string, DataValue> = {};
  private readonly itemKeys: readonly string[];
  private readonly behaviour: DeviceBehaviour;
  private readonly alarms: readonly AlarmTracker[];
  private readonly listeners = new Set<(signal: DeviceSignal) => void>();
  private readonly activeFaults = new Set<DeviceFault>();
  private readonly now: () => number;
  private phaseTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private seeding: Promise<boolean> | undefined;
  private readonly recent: EventReport[] = [];
  private services: DeviceServices | undefined;

  protected constructor(options: SimulatedDeviceOptions, behaviour: DeviceBehaviour) {
    this.serial = options.serial;
    this.modelId = options.modelId;
    this.softwareVersion = options.softwareVersion ?? DEFAULT_SOFTWARE_VERSIONS[options.modelId];
    this.tickMs = options.tickMs ?? 2000;
    this.filesDir = options.filesDir;
    this.now = options.now ?? Date.now;
    const seed = options.seed ?? seedFromText(options.serial);
    this.random = new SeededRandom(seed);
    this.diagnosticRandom = new SeededRandom((seed ^ 0x9e3779b9) >>> 0);
    this.diagnosticStepMs = options.diagnosticStepMs ?? 1000;
    const items = DEVICE_MODELS[options.modelId].dataItems;
    for (const item of items) this.values[item.key] = DEFAULT_VALUES[item.type];
    this.itemKeys = items.map((item) => item.key);
    this.behaviour = behaviour;
    this.alarms = behaviour.rules.map((rule) => ({ rule, active: false, heldTicks: 0, ticksSinceRaise: 0 }));
  }

  /** What the device is doing now (idle, injecting, fault, running, degraded, …). */
  abstract state(): string;

  /** Moves the values one tick on: random walk, scenario, and the effect of active faults. */
  protected abstract advance(now: number): void;

  /** The checks of this model's self-test; `extended` adds the slower mechanical ones. */
  protected abstract selfTestChecks(extended: boolean): SelfTestCheck[];

  /** This model's settings, as read-configuration reports them (never patient data). */
  protected abstract configuration(): Record<string, SettingValue>;

  /** The logs a log bundle gathers; `includeSystem` adds the operating system's. */
  protected abstract logSources(includeSystem: boolean): LogSource[];

  /** /config/protocols.xml: the model's stored protocols (never patient data). */
  protected abstract protocolsXml(random: SeededRandom): string;

  /**
   * The files the device's tree is seeded with: its logs, configuration and service
   * folder. Drawn from `random` alone (seeded by the serial) and `now`, so a device always
   * gets the same tree for the same time. Models with more roots add theirs.
   */
  protected async fileTree(random: SeededRandom, now: number): Promise<SeedFile[]> {
    const identity: DeviceIdentity = { serial: this.serial, modelName: DEVICE_MODELS[this.modelId].name, softwareVersion: this.softwareVersion };
    return [
      ...(await seededLogs(this.logSources(true), random, now)),
      settingsFile(identity, this.configuration(), random),
      { path: '/config/protocols.xml', content: this.protocolsXml(random), ageMs: ageInDays(random, 1, 60) },
      ...serviceFiles(identity, random, now),
    ];
  }

  /**
   * Seeds the device's file tree, once: skipped when `filesDir` exists already (the files
   * are the device's own from then on) or the device has none. `start` does it; tests and
   * callers that need the tree may await it. Resolves true when it wrote the tree.
   */
  seedFiles(): Promise<boolean> {
    const filesDir = this.filesDir;
    if (!filesDir) return Promise.resolve(false);
    const now = this.now();
    this.seeding ??= seedFileTree(filesDir, () => this.fileTree(new SeededRandom(seedFromText(`${this.serial}/files`)), now), now).catch((err: unknown) => {
      this.seeding = undefined; // the next start tries again
      throw err;
    });
    return this.seeding;
  }

  /** Remote diagnostics, as the agent's DeviceAdapter sees them. */
  readonly diagnostics: DeviceDiagnostics = {
    offered: () => diagnosticsFor(this.modelId),
    run: (name, params, context) => this.runDiagnostic(name, params, context),
  };

  /**
   * Runs a diagnostic of DIAGNOSTIC_CATALOG on the simulated equipment: a few steps of
   * `diagnosticStepMs` with progress and output lines, rejecting as soon as the
   * context's signal aborts. One that does not apply to the model is UNKNOWN_COMMAND; bad
   * parameters are VALIDATION_FAILED.
   */
  async runDiagnostic(name: DiagnosticName, params: Record<string, unknown>, context: DiagnosticContext): Promise<unknown> {
    if (!diagnosticsFor(this.modelId).includes(name)) {
      throw new TetherError('UNKNOWN_COMMAND', `${name} does not apply to the ${DEVICE_MODELS[this.modelId].name}`);
    }
    switch (name) {
      case 'self-test': {
        const { extended } = diagnosticParams('self-test', params);
        return runSelfTest(this.selfTestChecks(extended), extended, context, this.diagnosticStepMs);
      }
      case 'collect-log-bundle': {
        const { hours, includeSystem } = diagnosticParams('collect-log-bundle', params);
        if (this.filesDir) await this.seedFiles();
        const logsDir = this.filesDir ? join(this.filesDir, 'logs') : undefined;
        const bundle = { serial: this.serial, sources: this.logSources(includeSystem), hours, now: this.now(), logsDir };
        return collectLogBundle(bundle, context, this.diagnosticStepMs, this.diagnosticRandom);
      }
      case 'read-configuration':
        diagnosticParams('read-configuration', params);
        return this.readConfiguration(context);
      case 'set-data-item': {
        const { key, value } = diagnosticParams('set-data-item', params);
        return this.setDataItem(key, value, context);
      }
      default:
        return this.modelDiagnostic(name, params, context);
    }
  }

  /** The diagnostics only some models have (pressure transducer, plunger, service restart). */
  protected modelDiagnostic(name: DiagnosticName, _params: Record<string, unknown>, _context: DiagnosticContext): Promise<unknown> {
    return Promise.reject(new TetherError('UNKNOWN_COMMAND', `${name} is not implemented on the simulated ${this.modelId}`));
  }

  private async readConfiguration(context: DiagnosticContext): Promise<{ settings: Record<string, SettingValue> }> {
    context.signal.throwIfAborted();
    context.log('Reading configuration…');
    await pause(this.diagnosticStepMs / 2, context.signal);
    const settings: Record<string, SettingValue> = {
      serial: this.serial,
      model: this.modelId,
      softwareVersion: this.softwareVersion,
      ...this.configuration(),
    };
    for (const [key, value] of Object.entries(settings)) context.log(`  ${key} = ${String(value)}`);
    context.progress(100, 'Configuration read');
    return { settings };
  }

  /** Writes a catalog data item of the right type; the change is reported at once. */
  private async setDataItem(key: string, value: DataValue, context: DiagnosticContext): Promise<{ key: string; previous: DataValue | null; value: DataValue }> {
    const item = DEVICE_MODELS[this.modelId].dataItems.find((i) => i.key === key);
    if (!item) throw new TetherError('VALIDATION_FAILED', `the ${DEVICE_MODELS[this.modelId].name} has no data item "${key}"`);
    if (typeof value !== item.type) throw new TetherError('VALIDATION_FAILED', `${key} (${item.label}) takes a ${item.type}, not a ${typeof value}`);
    context.signal.throwIfAborted();
    const previous = Object.hasOwn(this.values, key) ? (this.values[key] ?? null) : null;
    const unit = item.unit ? ` ${item.unit}` : '';
    context.log(`Writing ${item.label} (${key}): ${String(previous)}${unit} → ${String(value)}${unit}`);
    await pause(this.diagnosticStepMs / 2, context.signal);
    this.write(key, value);
    context.progress(100, `${item.label} written`);
    context.log(`${item.label} is now ${String(value)}${unit}`);
    return { key, previous, value };
  }

  read(keys?: readonly string[]): Record<string, DataValue> {
    if (!keys) return { ...this.values };
    const picked: Record<string, DataValue> = {};
    for (const key of keys) {
      const value = Object.hasOwn(this.values, key) ? this.values[key] : undefined;
      if (value !== undefined) picked[key] = value;
    }
    return picked;
  }

  deadband(key: string): number {
    return this.behaviour.deadbands[key] ?? 0;
  }

  subscribe(listener: (signal: DeviceSignal) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Ticks every `tickMs`, starting at a random phase so a fleet does not tick in step. */
  start(): void {
    if (this.phaseTimer || this.tickTimer) return;
    this.seedFiles().catch((err: unknown) =>
      this.emitEvent(this.now(), 'storage.error', 'warning', `The device's file system could not be prepared: ${(err as Error).message}`.slice(0, 1024)));
    // Math.random, not the seeded generator: the phase only spreads a fleet's ticks over
    // time and must not shift the device's simulated values.
    this.phaseTimer = setTimeout(() => {
      this.phaseTimer = undefined;
      this.tickTimer = setInterval(() => this.tick(), this.tickMs);
      this.tickTimer.unref();
      this.tick();
    }, Math.floor(Math.random() * this.tickMs));
    this.phaseTimer.unref();
  }

  stop(): void {
    clearTimeout(this.phaseTimer);
    clearInterval(this.tickTimer);
    this.phaseTimer = undefined;
    this.tickTimer = undefined;
    void this.closeServices();
  }

  /**
   * The simulated service port behind a tunnel target (service page, service console) on
   * loopback, started on first use; undefined for a target the simulator does not run.
   */
  serviceEndpoint(targetId: string): Promise<ServiceEndpoint | undefined> {
    this.services ??= new DeviceServices(this);
    return this.services.endpoint(targetId);
  }

  /** Closes the simulated service ports and their connections (the device is switched off). */
  async closeServices(): Promise<void> {
    const services = this.services;
    this.services = undefined;
    await services?.close();
  }

  /** The alarms raised now, as the equipment's own screens show them. */
  activeAlarms(): ActiveAlarm[] {
    return this.alarms
      .filter((t) => t.active)
      .map((t) => ({ code: t.rule.code, severity: t.rule.severity, message: t.rule.message(this.values) }));
  }

  /** The newest `limit` events the equipment reported, oldest first. */
  recentEvents(limit: number): EventReport[] {
    return this.recent.slice(-limit);
  }

  /** One step of simulated time; public so tests drive the clock without timers. */
  tick(now: number = this.now()): void {
    this.advance(now);
    if (this.listeners.size > 0) {
      for (const key of this.itemKeys) {
        const value = this.values[key];
        if (value !== undefined) this.emit({ kind: 'data', key, value, at: now });
      }
    }
    this.evaluateAlarms(now);
  }

  get faults(): ReadonlySet<DeviceFault> {
    return this.activeFaults;
  }

  /** Starts a fault; throws when the model cannot have it (a server has no pressure transducer). */
  injectFault(fault: DeviceFault): void {
    const kind = DEVICE_MODELS[this.modelId].kind;
    if (!FAULTS_BY_KIND[kind].includes(fault)) {
      throw new Error(
        `fault "${fault}" does not apply to ${this.modelId} (${kind}); it can have: ${FAULTS_BY_KIND[kind].join(', ')}`,
      );
    }
    if (this.activeFaults.has(fault)) return;
    this.activeFaults.add(fault);
    this.emitEvent(this.now(), 'fault.injected', 'warning', `${this.faultLabel(fault)} injected`, { fault });
  }

  /** Ends a fault; the values recover over the next few ticks. */
  clearFault(fault: DeviceFault): void {
    if (!this.activeFaults.delete(fault)) return;
    this.emitEvent(this.now(), 'fault.cleared', 'info', `${this.faultLabel(fault)} cleared`, { fault });
  }

  clearFaults(): void {
    for (const fault of [...this.activeFaults]) this.clearFault(fault);
  }

  protected hasFault(fault: DeviceFault): boolean {
    return this.activeFaults.has(fault);
  }

  /** How the fault reads in the event log; a model may name it in its own terms. */
  protected faultLabel(fault: DeviceFault): string {
    return FAULT_LABELS[fault];
  }

  protected number(key: string): number {
    return numberAt(this.values, key);
  }

  protected text(key: string): string {
    return String(this.values[key] ?? '');
  }

  /** Sets a data item from outside the simulation (a remote write, a restart) and reports it at once. */
  protected write(key: string, value: DataValue): void {
    this.set(key, value);
    this.emit({ kind: 'data', key, value, at: this.now(), written: true });
  }

  /** Sets a catalog data item; a key outside the model's catalog is a programming error. */
  protected set(key: string, value: DataValue): void {
    if (!Object.hasOwn(this.values, key)) throw new Error(`${this.modelId} has no data item "${key}"`);
    this.values[key] = value;
  }

  protected emitEvent(
    at: number,
    type: string,
    severity: EventSeverity,
    message: string,
    data?: Record<string, unknown>,
  ): void {
    this.emit({ kind: 'event', report: { at, type, severity, message, ...(data ? { data } : {}) } });
  }

  private evaluateAlarms(now: number): void {
    for (const tracker of this.alarms) {
      const { rule } = tracker;
      if (!tracker.active) {
        tracker.heldTicks = rule.raise(this.values) ? tracker.heldTicks + 1 : 0;
        if (tracker.heldTicks >= (rule.raiseAfterTicks ?? 1)) {
          tracker.active = true;
          tracker.ticksSinceRaise = 0;
          this.raise(rule, now);
        }
      } else if (rule.clear(this.values)) {
        tracker.active = false;
        tracker.heldTicks = 0;
        this.emit({ kind: 'alarm', report: { action: 'clear', at: now, code: rule.code } });
      } else {
        tracker.ticksSinceRaise += 1;
        if (rule.repeatEveryTicks && tracker.ticksSinceRaise >= rule.repeatEveryTicks && rule.raise(this.values)) {
          tracker.ticksSinceRaise = 0;
          this.raise(rule, now);
        }
      }
    }
  }

  private raise(rule: ThresholdRule, at: number): void {
    const report = { action: 'raise', at, code: rule.code, severity: rule.severity, message: rule.message(this.values) } as const;
    this.emit({ kind: 'alarm', report });
  }

  private emit(signal: DeviceSignal): void {
    if (signal.kind === 'event') {
      this.recent.push(signal.report);
      if (this.recent.length > RECENT_EVENTS) this.recent.shift();
    }
    for (const listener of this.listeners) listener(signal);
  }
}
