import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeviceSummary } from '#contract/api/fleet';
import type { IpcCallName, IpcInput, IpcOutput, TetherBridge } from '#contract/ipc';
import { createFleetStore } from '../../../src/renderer/stores/fleet-store.ts';
import { detailOf, device } from './fixtures.ts';

/** A bridge that answers fleet calls from an array, recording every call. */
function fakeBridge(devices: DeviceSummary[], pageCap = Infinity) {
  const calls: { name: IpcCallName; input: unknown }[] = [];
  const answer = (name: IpcCallName, input: Record<string, unknown>): unknown => {
    switch (name) {
      case 'fleet.devices': {
        const offset = Number(input.offset ?? 0);
        const limit = Math.min(Number(input.limit), pageCap);
        return { items: devices.slice(offset, offset + limit), total: devices.length, counts: { online: 0, offline: 0, missing: 0 } };
      }
      case 'fleet.customers':
        return { items: [{ id: 'c1', name: 'Northwind Health', region: 'us', country: 'US' }] };
      case 'fleet.device':
        return detailOf({ ...devices.find((d) => d.id === input.id)!, openAlarms: 3 });
      default:
        throw new Error(`unexpected call ${name}`);
    }
  };
  const bridge: TetherBridge = {
    invoke<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>> {
      calls.push({ name, input });
      return Promise.resolve(answer(name, input as Record<string, unknown>) as IpcOutput<K>);
    },
    on: () => () => undefined,
  };
  return { bridge, calls };
}

const fleetOf = (n: number) => Array.from({ length: n }, (_, i) => device({ id: `d${i}`, serial: `SFX-US${String(i).padStart(5, '0')}` }));

describe('fleet store', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('loads every page until it has the total, asking for 10,000 at a time', async () => {
    const { bridge, calls } = fakeBridge(fleetOf(25), 10);
    const store = createFleetStore(bridge);
    await store.getState().load();
    expect(store.getState()).toMatchObject({ phase: 'ready' });
    expect(store.getState().ids).toHaveLength(25);
    expect(store.getState().visibleIds).toHaveLength(25);
    expect(calls.filter((c) => c.name === 'fleet.devices').map((c) => c.input)).toEqual([
      { limit: 10_000, offset: 0 },
      { limit: 10_000, offset: 10 },
      { limit: 10_000, offset: 20 },
    ]);
  });

  it('applies live status changes in a batch and updates filter and counts with them', async () => {
    const { bridge } = fakeBridge(fleetOf(3));
    const store = createFleetStore(bridge, { flushMs: 100 });
    await store.getState().load();
    store.getState().setFilter({ status: 'online' });
    const untouched = store.getState().byId.d2;

    store.getState().receive({ type: 'device.status', deviceId: 'd1', status: 'missing', at: '2025-01-01T11:00:00.000Z', lastContactAt: null });
    expect(store.getState().byId.d1?.status).toBe('online');
    await vi.advanceTimersByTimeAsync(100);

    expect(store.getState().byId.d1?.status).toBe('missing');
    expect(store.getState().byId.d2).toBe(untouched);
    expect(store.getState().visibleIds).toEqual(['d0', 'd2']);
    expect(store.getState().counts).toEqual({ online: 2, offline: 0, missing: 1 });
  });

  it('re-fetches a device once after a burst of alarm events, then shows its open alarm count', async () => {
    const { bridge, calls } = fakeBridge(fleetOf(2));
    const store = createFleetStore(bridge, { alarmRefetchMs: 500 });
    await store.getState().load();
    const alarmEvent = { type: 'device.alarm' as const, deviceId: 'd0', alarm: {} as never };
    for (let i = 0; i < 5; i += 1) {
      store.getState().receive(alarmEvent);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(calls.filter((c) => c.name === 'fleet.device')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(500);
    expect(calls.filter((c) => c.name === 'fleet.device')).toEqual([{ name: 'fleet.device', input: { id: 'd0' } }]);
    expect(store.getState().byId.d0?.openAlarms).toBe(3);
  });

  it('keeps live events that arrive during a load and applies them after it', async () => {
    const { bridge } = fakeBridge(fleetOf(2));
    const store = createFleetStore(bridge, { flushMs: 10 });
    await store.getState().load();
    const reload = store.getState().load();
    store.getState().receive({ type: 'device.data', deviceId: 'd1', items: [{ key: 'battery', value: 50, at: '2025-01-01T12:00:00.000Z' }] });
    await reload;
    await vi.advanceTimersByTimeAsync(10);
    expect(store.getState().byId.d1?.lastContactAt).toBe('2025-01-01T12:00:00.000Z');
  });

  it('forgets the fleet on reset (sign-out)', async () => {
    const { bridge } = fakeBridge(fleetOf(2));
    const store = createFleetStore(bridge);
    await store.getState().load();
    store.getState().select('d1');
    store.getState().reset();
    expect(store.getState()).toMatchObject({ phase: 'idle', ids: [], visibleIds: [], selectedId: null });
  });
});
