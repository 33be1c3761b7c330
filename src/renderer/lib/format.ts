import type { DataValue } from '../../shared/common.ts';
import type { CommandName } from '../../shared/protocol/commands.ts';
import { formatDateTime, formatDuration } from './time-format.ts';

const COMMAND_LABELS: Record<CommandName, string> = {
  ping: 'Ping',
  'read-status': 'Read status',
  'read-data-items': 'Read data items',
};

/** The name of a device command as the Commands tab shows it. */
export function commandLabel(name: CommandName): string {
  return COMMAND_LABELS[name];
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
  return formatDataValue(value);
}

/**
 * A command result as label/value lines when it is a flat object (what the catalog's
 * commands return); anything nested comes back as pretty JSON instead.
 */
export function formatCommandResult(result: unknown): { kind: 'entries'; entries: [string, string][] } | { kind: 'json'; text: string } {
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    const values = Object.entries(result as Record<string, unknown>);
    if (values.every(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) {
      return { kind: 'entries', entries: values.map(([k, v]) => [humanizeKey(k.replace(/(.)Seconds$/, '$1')), formatResultValue(k, v as DataValue | null)]) };
    }
  }
  return { kind: 'json', text: JSON.stringify(result, null, 2) ?? 'null' };
}
