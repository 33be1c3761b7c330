import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CommandView } from '#contract/api/commands';
import type { Alarm, DataItemValue, DeviceDetail, DeviceEvent } from '#contract/api/fleet';
import type { LiveEvent } from '#contract/api/live';
import { TERMINAL_COMMAND_STATES } from '#contract/common';
import type { TetherBridge } from '#contract/ipc';
import type { CommandName } from '#contract/protocol/commands';
import { describeError } from '../lib/error-messages.ts';
import {
  type ChartPoint,
  appendChartPoints,
  mergeDataItems,
  prependEvents,
  sortAlarms,
  toChartPoints,
  upsertCommand,
  upsertOpenAlarm,
} from './device-reducers.ts';

/** How many history points the chart starts with. */
const HISTORY_POINTS = 300;

/** The chart of one numeric data item: its history plus live values. */
export interface DeviceChart {
  key: string;
  points: readonly ChartPoint[];
  loading: boolean;
  error: string | null;
}

/** A list loaded from the server next to the detail, with its own failure. */
interface Loaded<T> {
  items: readonly T[] | null;
  error: string | null;
}

/** The device shown on the device screen, its tabs' data, kept current by live events. */
export interface DeviceStoreState {
  deviceId: string | null;
  detail: DeviceDetail | null;
  error: string | null;
  dataItems: Readonly<Record<string, DataItemValue>>;
  alarms: readonly Alarm[];
  events: Loaded<DeviceEvent>;
  commands: Loaded<CommandView>;
  chart: DeviceChart | null;
  open(deviceId: string): Promise<void>;
  /** Loads everything again (after a reconnect: live events may have been missed). */
  reload(): Promise<void>;
  close(): void;
  showChart(key: string | null): Promise<void>;
  /** Rejects with the BridgeError for the caller to report. */
  acknowledge(alarmId: string): Promise<Alarm>;
  /** Sends a command (a diagnostic with the session it runs in); resolves to its id once it is listed. */
  sendCommand(name: CommandName, params?: Record<string, unknown>, sessionId?: string): Promise<string | null>;
  /** Asks the device to stop a command; rejects with the BridgeError for the caller to report. */
  cancelCommand(commandId: string): Promise<void>;
  receive(event: LiveEvent): void;
}

/** The device store's handle (vanilla zustand; React reads it through context). */
export type DeviceStore = StoreApi<DeviceStoreState>;

const CLOSED = {
  deviceId: null,
  detail: null,
  error: null,
  dataItems: {},
  alarms: [],
  events: { items: null, error: null },
  commands: { items: null, error: null },
  chart: null,
} satisfies Partial<DeviceStoreState>;

/** What the device store tells the shell: a command of the shown device reached its end state. */
export interface DeviceStoreHooks {
  onCommandFinished?: (command: CommandView) => void;
}

/** The device store over the bridge. */
export function createDeviceStore(bridge: TetherBridge, hooks: DeviceStoreHooks = {}): DeviceStore {
  return createStore<DeviceStoreState>()((set, get) => {
    /** Runs `then` only if the same device is still shown when the answer comes. */
    const forDevice = <T>(deviceId: string, promise: Promise<T>, then: (value: T) => void, fail: (err: unknown) => void) =>
      promise.then(
        (value) => {
          if (get().deviceId === deviceId) then(value);
        },
        (err: unknown) => {
          if (get().deviceId === deviceId) fail(err);
        },
      );

    const loadAll = (deviceId: string) =>
      Promise.all([
        forDevice(
          deviceId,
          bridge.invoke('fleet.device', { id: deviceId }),
          (detail) => set((s) => ({ detail, error: null, dataItems: mergeDataItems(s.dataItems, detail.dataItems), alarms: sortAlarms(detail.alarms.filter((a) => a.state !== 'closed')) })),
          (err) => set({ error: describeError(err) }),
        ),
        forDevice(
          deviceId,
          bridge.invoke('fleet.events', { id: deviceId, limit: 100 }),
          (answer) => set((s) => ({ events: { items: prependEvents(s.events.items ?? [], answer.items), error: null } })),
          (err) => set((s) => ({ events: { items: s.events.items, error: describeError(err) } })),
        ),
        forDevice(
          deviceId,
          bridge.invoke('commands.list', { deviceId }),
          (answer) => set((s) => ({ commands: { items: answer.items.reduce(upsertCommand, s.commands.items ?? []), error: null } })),
          (err) => set((s) => ({ commands: { items: s.commands.items, error: describeError(err) } })),
        ),
      ]);

    /** Shows a newer view of a command of the shown device; its first terminal state tells the shell. */
    const showCommand = (command: CommandView) => {
      const before = get().commands.items?.find((c) => c.id === command.id);
      set((s) => ({ commands: { items: upsertCommand(s.commands.items ?? [], command), error: s.commands.error } }));
      if (TERMINAL_COMMAND_STATES.includes(command.state) && (!before || !TERMINAL_COMMAND_STATES.includes(before.state))) hooks.onCommandFinished?.(command);
    };

    return {
      ...CLOSED,

      async open(deviceId) {
        if (get().deviceId === deviceId) return;
        set({ ...CLOSED, deviceId });
        await loadAll(deviceId);
      },

      async reload() {
        const { deviceId, chart } = get();
        if (!deviceId) return;
        await Promise.all([loadAll(deviceId), chart ? get().showChart(chart.key) : undefined]);
      },

      close() {
        set(CLOSED);
      },

      async showChart(key) {
        const { deviceId } = get();
        if (!deviceId || key === null) {
          set({ chart: null });
          return;
        }
        set((s) => ({ chart: { key, points: s.chart?.key === key ? s.chart.points : [], loading: true, error: null } }));
        await forDevice(
          deviceId,
          bridge.invoke('fleet.history', { id: deviceId, key, limit: HISTORY_POINTS }),
          (history) => set((s) => (s.chart?.key === key ? { chart: { key, points: toChartPoints(history.points), loading: false, error: null } } : {})),
          (err) => set((s) => (s.chart?.key === key ? { chart: { ...s.chart, loading: false, error: describeError(err) } } : {})),
        );
      },

      async acknowledge(alarmId) {
        const alarm = await bridge.invoke('alarms.acknowledge', { id: alarmId });
        if (get().deviceId === alarm.deviceId) set((s) => ({ alarms: upsertOpenAlarm(s.alarms, alarm) }));
        return alarm;
      },

      async sendCommand(name, params = {}, sessionId) {
        const deviceId = get().deviceId;
        if (!deviceId) return null;
        const accepted = await bridge.invoke('commands.send', { deviceId, name, params, ...(sessionId ? { sessionId } : {}) });
        // listed at once, whether or not its first live event came before this answer
        await forDevice(
          deviceId,
          bridge.invoke('commands.get', { id: accepted.id }),
          showCommand,
          // the next state change or a reload shows it; a failed fetch is not worth an alert
          () => undefined,
        );
        return accepted.id;
      },

      async cancelCommand(commandId) {
        const command = await bridge.invoke('commands.cancel', { id: commandId });
        if (get().deviceId === command.deviceId) set((s) => ({ commands: { items: upsertCommand(s.commands.items ?? [], command), error: s.commands.error } }));
      },

      receive(event) {
        const { deviceId, detail } = get();
        if (event.type === 'hello' || event.deviceId !== deviceId) return;
        switch (event.type) {
          case 'device.data':
            set((s) => {
              const points = s.chart && appendChartPoints(s.chart.points, s.chart.key, event.items);
              return {
                dataItems: mergeDataItems(s.dataItems, event.items),
                chart: s.chart && points !== s.chart.points ? { ...s.chart, points: points ?? [] } : s.chart,
                detail: s.detail ? { ...s.detail, lastContactAt: latestOf(s.detail.lastContactAt, event.items) } : null,
              };
            });
            return;
          case 'device.status':
            if (detail) {
              const statusSince = detail.status === event.status ? detail.statusSince : event.at;
              set({ detail: { ...detail, status: event.status, statusSince, lastContactAt: event.lastContactAt ?? detail.lastContactAt } });
            }
            return;
          case 'device.alarm':
            set((s) => {
              const alarms = upsertOpenAlarm(s.alarms, event.alarm);
              return { alarms, detail: s.detail ? { ...s.detail, openAlarms: alarms.length } : null };
            });
            return;
          case 'device.event':
            set((s) => ({ events: { items: prependEvents(s.events.items ?? [], [event.event]), error: s.events.error } }));
            return;
          case 'command.state':
            showCommand(event.command);
            return;
        }
      },
    };
  });
}

/** The newest of a last-contact time and the times of incoming data items. */
function latestOf(lastContactAt: string | null, items: readonly DataItemValue[]): string | null {
  let newest = lastContactAt;
  for (const item of items) if (!newest || Date.parse(item.at) > Date.parse(newest)) newest = item.at;
  return newest;
}
