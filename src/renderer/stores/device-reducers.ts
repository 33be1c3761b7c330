import type { CommandView } from '#contract/api/commands';
import type { Alarm, DataItemValue, DeviceEvent } from '#contract/api/fleet';
import { ALARM_SEVERITIES } from '#contract/common';

/** A chart point: time in ms since the epoch, and a numeric value. */
export interface ChartPoint {
  at: number;
  value: number;
}

/** How many events a device view keeps while it stays open. */
export const EVENTS_KEPT = 500;
/** How many chart points a device view keeps while it stays open. */
export const CHART_POINTS_KEPT = 600;

/** Latest value per data item key; an item older than the one shown is ignored. */
export function mergeDataItems(current: Readonly<Record<string, DataItemValue>>, items: readonly DataItemValue[]): Record<string, DataItemValue> {
  const next = { ...current };
  for (const item of items) {
    const shown = next[item.key];
    if (!shown || Date.parse(item.at) >= Date.parse(shown.at)) next[item.key] = item;
  }
  return next;
}

const severityRank = (alarm: Alarm) => ALARM_SEVERITIES.indexOf(alarm.severity);

/** Open alarms first by severity (critical first), then the most recently raised. */
export function sortAlarms(alarms: readonly Alarm[]): Alarm[] {
  return [...alarms].sort((a, b) => severityRank(a) - severityRank(b) || Date.parse(b.lastAt) - Date.parse(a.lastAt));
}

/**
 * The open alarms after an update of one: replaced in place, added when new, removed when
 * closed. An update older than the one shown (same alarm, earlier lastAt and no state
 * change) is ignored.
 */
export function upsertOpenAlarm(alarms: readonly Alarm[], alarm: Alarm): readonly Alarm[] {
  const rest = alarms.filter((a) => a.id !== alarm.id);
  if (alarm.state === 'closed') return rest.length === alarms.length ? alarms : rest;
  const shown = alarms.find((a) => a.id === alarm.id);
  if (shown && shown.state === alarm.state && Date.parse(alarm.lastAt) < Date.parse(shown.lastAt)) return alarms;
  return sortAlarms([...rest, alarm]);
}

/** Newest first, without duplicates, at most EVENTS_KEPT. */
export function prependEvents(events: readonly DeviceEvent[], incoming: readonly DeviceEvent[]): readonly DeviceEvent[] {
  const known = new Set(events.map((e) => e.id));
  const fresh = incoming.filter((e) => !known.has(e.id));
  if (fresh.length === 0) return events;
  return [...fresh, ...events].sort((a, b) => Date.parse(b.at) - Date.parse(a.at)).slice(0, EVENTS_KEPT);
}

/**
 * The command list (newest first) with one command replaced or added. Re-fetches can
 * answer out of order: a version older than the one shown is ignored.
 */
export function upsertCommand(commands: readonly CommandView[], command: CommandView): readonly CommandView[] {
  const shown = commands.find((c) => c.id === command.id);
  if (shown && Date.parse(shown.updatedAt) > Date.parse(command.updatedAt)) return commands;
  return [command, ...commands.filter((c) => c.id !== command.id)].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
}

/** History as chart points, oldest first; non-numeric values are left out. */
export function toChartPoints(points: readonly { at: string; value: unknown }[]): ChartPoint[] {
  return points
    .filter((p): p is { at: string; value: number } => typeof p.value === 'number')
    .map((p) => ({ at: Date.parse(p.at), value: p.value }))
    .sort((a, b) => a.at - b.at);
}

/** Appends live values of the charted key that are newer than the last point, keeping the newest CHART_POINTS_KEPT. */
export function appendChartPoints(points: readonly ChartPoint[], key: string, items: readonly DataItemValue[]): readonly ChartPoint[] {
  const last = points.at(-1)?.at ?? -Infinity;
  const fresh = toChartPoints(items.filter((i) => i.key === key)).filter((p) => p.at > last);
  if (fresh.length === 0) return points;
  return [...points, ...fresh].slice(-CHART_POINTS_KEPT);
}
