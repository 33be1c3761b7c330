import { describe, expect, it } from 'vitest';
import type { LiveEvent } from '#contract/api/live';
import { applyDeviceDetail, applyLiveEvents, loadFleet } from '../../../src/renderer/stores/fleet-reducers.ts';
import { detailOf, device } from './fixtures.ts';

const T0 = '2025-01-01T10:00:00.000Z';
const T1 = '2025-01-01T10:00:05.000Z';
const T2 = '2025-01-01T10:00:09.000Z';

const fleet = () => loadFleet([device({ id: 'a', serial: 'B-2' }), device({ id: 'b', serial: 'A-1' }), device({ id: 'c', serial: 'C-3' })]);

const status = (deviceId: string, value: 'online' | 'offline' | 'missing', at: string, lastContactAt: string | null = at): LiveEvent => ({
  type: 'device.status',
  deviceId,
  status: value,
  at,
  lastContactAt,
});
const data = (deviceId: string, at: string): LiveEvent => ({ type: 'device.data', deviceId, items: [{ key: 'battery', value: 80, at }] });

describe('loadFleet', () => {
  it('indexes devices by id and orders them by serial', () => {
    const loaded = fleet();
    expect(loaded.ids).toEqual(['b', 'a', 'c']);
    expect(loaded.byId.a?.serial).toBe('B-2');
  });
});

describe('applyLiveEvents', () => {
  it('changes the status and last contact of that device only, leaving the other objects untouched', () => {
    const before = fleet();
    const { data: after, statusChanged } = applyLiveEvents(before, [status('a', 'missing', T1, T0)]);
    expect(statusChanged).toBe(true);
    expect(after.byId.a).toMatchObject({ status: 'missing', statusSince: T1 });
    expect(after.byId.b).toBe(before.byId.b);
    expect(after.byId.c).toBe(before.byId.c);
    expect(after.ids).toBe(before.ids);
  });

  it('moves last contact forward on data without touching the status', () => {
    const before = fleet();
    const { data: after, statusChanged } = applyLiveEvents(before, [data('b', T2)]);
    expect(statusChanged).toBe(false);
    expect(after.byId.b).toMatchObject({ status: 'online', lastContactAt: T2 });
  });

  it('applies a whole batch with one copy and the last event winning', () => {
    const before = fleet();
    const { data: after } = applyLiveEvents(before, [status('a', 'missing', T1), status('a', 'online', T2), data('c', T1)]);
    expect(after.byId.a).toMatchObject({ status: 'online', statusSince: T2, lastContactAt: T2 });
    expect(after.byId.c?.lastContactAt).toBe(T1);
  });

  it('ignores late events: an older status, an older last contact', () => {
    const before = applyLiveEvents(fleet(), [status('a', 'missing', T2, T2)]).data;
    const { data: after, statusChanged } = applyLiveEvents(before, [status('a', 'online', T1, T1), data('a', T0)]);
    expect(after).toBe(before);
    expect(statusChanged).toBe(false);
  });

  it('returns the same data when nothing changes (no re-render), including unknown devices and other event types', () => {
    const before = fleet();
    const events: LiveEvent[] = [
      { type: 'hello', serverTime: T1 },
      status('nobody', 'offline', T1),
      data('a', T0),
      { type: 'device.event', deviceId: 'a', event: { id: 'e1', deviceId: 'a', at: T1, type: 'x', severity: 'info', message: 'm', data: null } },
    ];
    expect(applyLiveEvents(before, events).data).toBe(before);
  });
});

describe('applyDeviceDetail', () => {
  it('takes the open alarm count of a re-fetched device', () => {
    const before = fleet();
    const { data: after } = applyDeviceDetail(before, detailOf({ ...before.byId.a!, openAlarms: 2 }));
    expect(after.byId.a?.openAlarms).toBe(2);
    expect(after.byId.b).toBe(before.byId.b);
  });

  it('keeps a newer status the fleet already shows', () => {
    const before = applyLiveEvents(fleet(), [status('a', 'missing', T2)]).data;
    const { data: after, statusChanged } = applyDeviceDetail(before, detailOf({ ...before.byId.a!, status: 'online', statusSince: T1, openAlarms: 1 }));
    expect(after.byId.a).toMatchObject({ status: 'missing', openAlarms: 1 });
    expect(statusChanged).toBe(false);
  });

  it('changes nothing for an unchanged or unknown device', () => {
    const before = fleet();
    expect(applyDeviceDetail(before, detailOf(before.byId.a!)).data).toBe(before);
    expect(applyDeviceDetail(before, detailOf({ ...before.byId.a!, id: 'zzz' })).data).toBe(before);
  });
});
