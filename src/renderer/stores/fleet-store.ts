import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Customer, DeviceSummary } from '#contract/api/fleet';
import type { LiveEvent } from '#contract/api/live';
import { DEVICE_STATUSES } from '#contract/common';
import type { TetherBridge } from '#contract/ipc';
import { describeError } from '../lib/error-messages.ts';
import { type FleetData, type FleetUpdate, applyDeviceDetail, applyLiveEvents, loadFleet } from './fleet-reducers.ts';
import { EMPTY_FILTER, type FleetFilter, type FleetView, deriveFleetView } from './fleet-view.ts';

/** The whole fleet in memory, filtered client-side, kept current by live events. */
export interface FleetStoreState extends FleetData, FleetView {
  phase: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
  customers: readonly Customer[];
  filter: FleetFilter;
  selectedId: string | null;
  /** Loads (or reloads) every device, page by page. */
  load(): Promise<void>;
  setFilter(patch: Partial<FleetFilter>): void;
  select(id: string | null): void;
  /** Takes a live event; applied with others in the next batch. */
  receive(event: LiveEvent): void;
  reset(): void;
}

/** The fleet store's handle (vanilla zustand; React reads it through context). */
export type FleetStore = StoreApi<FleetStoreState>;

/** Timings of the live-event batching; tests shorten them. */
export interface FleetStoreOptions {
  /** How often buffered live events are applied. */
  flushMs?: number;
  /** Quiet time after a device's last alarm event before its open-alarm count is re-fetched. */
  alarmRefetchMs?: number;
}

const PAGE_SIZE = 10_000;
/** Live events kept while a load is in flight; beyond this the reload itself is fresher. */
const MAX_BUFFERED = 50_000;

const EMPTY: Pick<FleetStoreState, 'byId' | 'ids' | 'visibleIds' | 'counts' | 'phase' | 'error' | 'customers' | 'selectedId'> = {
  byId: {},
  ids: [],
  visibleIds: [],
  counts: { online: 0, offline: 0, missing: 0 },
  phase: 'idle',
  error: null,
  customers: [],
  selectedId: null,
};

/** The fleet store over the bridge. */
export function createFleetStore(bridge: TetherBridge, options: FleetStoreOptions = {}): FleetStore {
  const flushMs = options.flushMs ?? 250;
  const alarmRefetchMs = options.alarmRefetchMs ?? 500;
  let buffered: LiveEvent[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  const alarmTimers = new Map<string, ReturnType<typeof setTimeout>>();
  let generation = 0;

  return createStore<FleetStoreState>()((set, get) => {
    /** Applies a reducer to the current fleet; stores only what changed. */
    const commit = (reduce: (data: FleetData) => FleetUpdate) => {
      const before = get();
      const { data, statusChanged } = reduce(before);
      if (data === before) return;
      set((s) => ({ byId: data.byId, ids: data.ids, ...(statusChanged ? keepUnchanged(s, deriveFleetView(data.ids, data.byId, s.filter)) : {}) }));
    };

    const scheduleFlush = () => {
      flushTimer ??= setTimeout(flush, flushMs);
    };

    const flush = () => {
      flushTimer = undefined;
      if (get().phase !== 'ready' || buffered.length === 0) return;
      const events = buffered;
      buffered = [];
      commit((data) => applyLiveEvents(data, events));
    };

    const refetchAlarms = (deviceId: string) => {
      alarmTimers.delete(deviceId);
      const seen = generation;
      bridge.invoke('fleet.device', { id: deviceId }).then(
        (detail) => {
          if (seen === generation) commit((data) => applyDeviceDetail(data, detail));
        },
        // a device that vanished or a hiccup: the next alarm or reload corrects the count
        () => undefined,
      );
    };

    return {
      ...EMPTY,
      filter: EMPTY_FILTER,

      async load() {
        const mine = ++generation;
        set({ phase: 'loading', error: null });
        try {
          const [devices, customers] = await Promise.all([loadAllDevices(bridge), bridge.invoke('fleet.customers', {})]);
          if (mine !== generation) return;
          const data = loadFleet(devices);
          set((s) => ({ ...data, ...deriveFleetView(data.ids, data.byId, s.filter), customers: customers.items, phase: 'ready' }));
          performance.mark('fleet-data-ready');
          // events that arrived during the load go in the next batch, after the first rows paint
          if (buffered.length) scheduleFlush();
        } catch (err) {
          if (mine === generation) set({ phase: 'error', error: describeError(err) });
        }
      },

      setFilter(patch) {
        set((s) => {
          const filter = { ...s.filter, ...patch };
          return { filter, ...deriveFleetView(s.ids, s.byId, filter) };
        });
      },

      select(id) {
        set({ selectedId: id });
      },

      receive(event) {
        if (event.type === 'device.alarm') {
          clearTimeout(alarmTimers.get(event.deviceId));
          alarmTimers.set(event.deviceId, setTimeout(() => refetchAlarms(event.deviceId), alarmRefetchMs));
          return;
        }
        if (event.type !== 'device.status' && event.type !== 'device.data') return;
        if (get().phase === 'idle') return;
        buffered.push(event);
        if (buffered.length > MAX_BUFFERED) buffered = buffered.slice(-MAX_BUFFERED);
        scheduleFlush();
      },

      reset() {
        generation += 1;
        buffered = [];
        clearTimeout(flushTimer);
        flushTimer = undefined;
        for (const timer of alarmTimers.values()) clearTimeout(timer);
        alarmTimers.clear();
        set({ ...EMPTY, filter: EMPTY_FILTER });
      },
    };
  });
}

/**
 * A re-derived view that reuses the previous list and counts when they did not change, so
 * the grid and the toolbar do not re-render for a status change that moves nothing.
 */
function keepUnchanged(previous: FleetView, next: FleetView): FleetView {
  const sameIds = previous.visibleIds.length === next.visibleIds.length && previous.visibleIds.every((id, i) => id === next.visibleIds[i]);
  const sameCounts = DEVICE_STATUSES.every((status) => previous.counts[status] === next.counts[status]);
  return { visibleIds: sameIds ? previous.visibleIds : next.visibleIds, counts: sameCounts ? previous.counts : next.counts };
}

/** Every device the user may see: `fleet.devices` page after page until the total is reached. */
async function loadAllDevices(bridge: TetherBridge): Promise<DeviceSummary[]> {
  const devices: DeviceSummary[] = [];
  for (;;) {
    const page = await bridge.invoke('fleet.devices', { limit: PAGE_SIZE, offset: devices.length });
    devices.push(...page.items);
    if (page.items.length === 0 || devices.length >= page.total) return devices;
  }
}
