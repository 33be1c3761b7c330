import type { DataValue } from '#contract/common';
import { type CommandName, commandSpec } from '#contract/protocol/commands';
import { formatDateTime, formatDuration } from './time-format.ts';

/** The name of a device command as the console shows it (from the catalog). */
export function commandLabel(name: CommandName): string {
  return commandSpec(name).label;
}

/** A data item value for a table cell: numbers with at most two decimals, booleans as Yes/No. */
export function formatDataValue(value: DataValue | undefined): string {
  if (value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Math.round(value * 100) / 100);
  return value;
}

/** "uptimeSeconds" → "Uptime seconds", "outbound_queued" → "Outbound queued". */
export function humanizeKey(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words ? words[0]!.toUpperCase() + words.slice(1) : key;
}

/** A result value by what its key says it is: epoch times as dates, `…Seconds` as durations (labelled without the unit). */
function formatResultValue(key: string, value: DataValue | null): string {
  if (value === null) return '—';
  if (typeof value === 'number' && /(Time|At)$/.test(key) && value > 1e11) return formatDateTime(new Date(value).toISOString());
  if (typeof value === 'number' && /Seconds$/.test(key)) return formatDuration(value);
  if (typeof value === 'number' && /Bytes$/.test(key)) return formatBytes(value);
  return formatDataValue(value);
}

/** "812 B", "14.2 kB", "3.4 MB": a size as a file manager shows it (powers of 1024). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.max(0, Math.round(bytes))} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * A command result as label/value lines when it is a flat object (what the catalog's
 * commands return); anything nested comes back as pretty JSON instead.
 */
export function formatCommandResult(result: unknown): { kind: 'entries'; entries: [string, string][] } | { kind: 'json'; text: string } {
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    const values = Object.entries(result as Record<string, unknown>);
    if (values.every(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) {
      return { kind: 'entries', entries: values.map(([k, v]) => [humanizeKey(k.replace(/(.)(Seconds|Bytes)$/, '$1')), formatResultValue(k, v as DataValue | null)]) };
    }
  }
  return { kind: 'json', text: JSON.stringify(result, null, 2) ?? 'null' };
}

/** One check of a self-test, as the device reported it. */
export interface CheckRow {
  name: string;
  passed: boolean;
  detail: string;
}

const isCheckRow = (value: unknown): value is CheckRow =>
  typeof value === 'object' && value !== null && typeof (value as CheckRow).name === 'string' && typeof (value as CheckRow).passed === 'boolean' && typeof (value as CheckRow).detail === 'string';

/**
 * A diagnostic's result for the Diagnostics tab: a self-test's checks as a table (with the
 * overall verdict), a configuration's settings as label/value lines, anything else as
 * `formatCommandResult` shows it.
 */
export function formatDiagnosticResult(
  result: unknown,
): { kind: 'checks'; passed: boolean | null; checks: CheckRow[] } | ReturnType<typeof formatCommandResult> {
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    const record = result as Record<string, unknown>;
    if (Array.isArray(record.checks) && record.checks.every(isCheckRow)) {
      return { kind: 'checks', passed: typeof record.passed === 'boolean' ? record.passed : null, checks: record.checks };
    }
    if (Object.keys(record).length === 1 && record.settings !== null && typeof record.settings === 'object') return formatCommandResult(record.settings);
  }
  return formatCommandResult(result);
}
