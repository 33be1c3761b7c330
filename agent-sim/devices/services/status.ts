import type { AlarmSeverity, DataValue } from '#contract/common';
import { DEVICE_MODELS, type DeviceModelId } from '#contract/device-models';
import type { EventReport } from '#contract/protocol/poll';

/** An alarm the equipment holds raised now. */
export interface ActiveAlarm {
  readonly code: string;
  readonly severity: AlarmSeverity;
  readonly message: string;
}

/**
 * What the simulated service page and service console show: the equipment's own view of
 * itself, read on every request so both stay live.
 */
export interface ServiceStatusSource {
  readonly serial: string;
  readonly modelId: DeviceModelId;
  readonly softwareVersion: string;
  state(): string;
  read(): Record<string, DataValue>;
  activeAlarms(): readonly ActiveAlarm[];
  /** The newest `limit` events, oldest first. */
  recentEvents(limit: number): readonly EventReport[];
}

/** One data item as a service screen lists it. */
export interface ServiceItem {
  key: string;
  label: string;
  value: DataValue | null;
  unit: string | null;
}

/** A snapshot of the equipment for a service screen (also the page's `/status.json`). */
export interface ServiceStatus {
  serial: string;
  model: string;
  softwareVersion: string;
  state: string;
  at: string;
  items: ServiceItem[];
  alarms: ActiveAlarm[];
  events: { at: string; severity: string; type: string; message: string }[];
}

/** How many events the service page shows. */
export const PAGE_EVENTS = 10;

export function serviceStatus(source: ServiceStatusSource, now: number = Date.now()): ServiceStatus {
  const values = source.read();
  const model = DEVICE_MODELS[source.modelId];
  return {
    serial: source.serial,
    model: model.name,
    softwareVersion: source.softwareVersion,
    state: source.state(),
    at: new Date(now).toISOString(),
    items: model.dataItems.map((item) => ({ key: item.key, label: item.label, value: values[item.key] ?? null, unit: item.unit ?? null })),
    alarms: [...source.activeAlarms()],
    events: source.recentEvents(PAGE_EVENTS).map((e) => ({ at: new Date(e.at).toISOString(), severity: e.severity, type: e.type, message: e.message })),
  };
}

/** A data value as an engineer reads it: numbers rounded to what the display shows. */
export function formatValue(value: DataValue | null, unit: string | null): string {
  if (value === null || value === '') return '—';
  const text = typeof value === 'number' ? String(Math.round(value * 100) / 100) : String(value);
  return unit ? `${text} ${unit}` : text;
}
