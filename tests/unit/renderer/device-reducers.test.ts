import { describe, expect, it } from 'vitest';
import type { CommandView } from '#contract/api/commands';
import type { DeviceEvent } from '#contract/api/fleet';
import {
  CHART_POINTS_KEPT,
  EVENTS_KEPT,
  appendChartPoints,
  mergeDataItems,
  prependEvents,
  toChartPoints,
  upsertCommand,
  upsertOpenAlarm,
} from '../../../src/renderer/stores/device-reducers.ts';
import { alarm } from './fixtures.ts';

const iso = (second: number) => new Date(Date.UTC(2025, 0, 1, 10, 0, second)).toISOString();

describe('mergeDataItems', () => {
  it('keeps the newest value per key', () => {
    const current = { battery: { key: 'battery', value: 80, at: iso(5) } };
    const next = mergeDataItems(current, [
      { key: 'battery', value: 90, at: iso(1) },
      { key: 'flowRate', value: 2.5, at: iso(6) },
    ]);
    expect(next.battery?.value).toBe(80);
    expect(next.flowRate?.value).toBe(2.5);
  });
});

describe('upsertOpenAlarm', () => {
  it('adds a new alarm, most severe first', () => {
    const minor = alarm({ id: 'm', severity: 'minor', code: 'LOW_BATTERY' });
    const list = upsertOpenAlarm([minor], alarm({ id: 'p', severity: 'major' }));
    expect(list.map((a) => a.id)).toEqual(['p', 'm']);
  });

  it('shows an acknowledgement in place and drops a closed alarm', () => {
    const open = [alarm({ id: 'p' })];
    const acked = upsertOpenAlarm(open, alarm({ id: 'p', state: 'acknowledged', acknowledgedBy: 'sim' }));
    expect(acked).toEqual([expect.objectContaining({ id: 'p', state: 'acknowledged', acknowledgedBy: 'sim' })]);
    expect(upsertOpenAlarm(acked, alarm({ id: 'p', state: 'closed' }))).toEqual([]);
  });

  it('ignores a stale repeat of an alarm and a close of an alarm it does not show', () => {
    const open = [alarm({ id: 'p', count: 5, lastAt: iso(9) })];
    expect(upsertOpenAlarm(open, alarm({ id: 'p', count: 4, lastAt: iso(8) }))).toBe(open);
    expect(upsertOpenAlarm(open, alarm({ id: 'other', state: 'closed' }))).toBe(open);
  });
});

describe('prependEvents', () => {
  const event = (id: string, second: number): DeviceEvent => ({ id, deviceId: 'd1', at: iso(second), type: 'state', severity: 'info', message: id, data: null });

  it('puts new events first and drops duplicates', () => {
    const list = prependEvents([event('b', 2), event('a', 1)], [event('c', 3), event('b', 2)]);
    expect(list.map((e) => e.id)).toEqual(['c', 'b', 'a']);
  });

  it(`keeps at most ${EVENTS_KEPT}`, () => {
    const many = Array.from({ length: EVENTS_KEPT + 20 }, (_, i) => event(String(i), i % 60));
    expect(prependEvents([], many)).toHaveLength(EVENTS_KEPT);
  });
});

describe('upsertCommand', () => {
  const command = (id: string, second: number, state: CommandView['state'] = 'queued'): CommandView => ({
    id,
    deviceId: 'd1',
    name: 'ping',
    params: {},
    state,
    createdBy: 'sim',
    createdAt: iso(second),
    updatedAt: iso(second),
    expiresAt: iso(59),
    attempts: 0,
    sessionId: null,
    progress: null,
    result: null,
    error: null,
    history: [],
  });

  it('replaces a command by id and keeps the newest first', () => {
    const list = upsertCommand([command('b', 2), command('a', 1)], command('a', 1, 'succeeded'));
    expect(list.map((c) => [c.id, c.state])).toEqual([
      ['b', 'queued'],
      ['a', 'succeeded'],
    ]);
    expect(upsertCommand(list, command('c', 3))[0]?.id).toBe('c');
  });

  it('keeps a finished command when a slower, older re-fetch answers last', () => {
    const done = { ...command('a', 1, 'succeeded'), updatedAt: iso(5) };
    const stale = { ...command('a', 1, 'running'), updatedAt: iso(3) };
    const list = upsertCommand([done], stale);
    expect(list).toEqual([done]);
  });
});

describe('chart points', () => {
  it('keeps numeric history only, oldest first', () => {
    expect(toChartPoints([{ at: iso(2), value: 3 }, { at: iso(1), value: 'n/a' }, { at: iso(0), value: 1 }])).toEqual([
      { at: Date.parse(iso(0)), value: 1 },
      { at: Date.parse(iso(2)), value: 3 },
    ]);
  });

  it('appends live values of the charted key that are newer than the last point', () => {
    const points = toChartPoints([{ at: iso(5), value: 1 }]);
    const next = appendChartPoints(points, 'battery', [
      { key: 'battery', value: 2, at: iso(4) },
      { key: 'flowRate', value: 9, at: iso(6) },
      { key: 'battery', value: 3, at: iso(6) },
    ]);
    expect(next.map((p) => p.value)).toEqual([1, 3]);
    expect(appendChartPoints(next, 'battery', [{ key: 'flowRate', value: 1, at: iso(9) }])).toBe(next);
  });

  it(`keeps the newest ${CHART_POINTS_KEPT} points`, () => {
    const start = Date.UTC(2025, 0, 1);
    const points = Array.from({ length: CHART_POINTS_KEPT }, (_, i) => ({ at: start + i * 1000, value: i }));
    const next = appendChartPoints(points, 'k', [{ key: 'k', value: -1, at: new Date(start + CHART_POINTS_KEPT * 1000).toISOString() }]);
    expect(next).toHaveLength(CHART_POINTS_KEPT);
    expect(next.at(-1)?.value).toBe(-1);
    expect(next[0]?.value).toBe(1);
  });
});
