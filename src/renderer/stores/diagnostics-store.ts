import { createStore, type StoreApi } from 'zustand/vanilla';
import type { LiveEvent } from '#contract/api/live';
import type { DiagnosticAction } from '#contract/api/sessions';
import type { TetherBridge } from '#contract/ipc';
import { describeError } from '../lib/error-messages.ts';
import { type CommandOutput, appendOutput, heldThrough, leavesGap } from './command-output.ts';

/**
 * The diagnostics of the device on screen: the actions its model offers (with their
 * parameter schemas) and the live output of its diagnostic commands, from
 * `command.progress` events, caught up with `commands.output` where events were missed.
 * The commands themselves (state, result) are the device store's.
 */
export interface DiagnosticsStoreState {
  deviceId: string | null;
  actions: { items: readonly DiagnosticAction[] | null; error: string | null };
  /** Per command id. */
  outputs: Readonly<Record<string, CommandOutput>>;
  open(deviceId: string): Promise<void>;
  /** After a reconnect: the actions, and every output held, caught up. */
  reload(): Promise<void>;
  close(): void;
  /** Fetches the lines of a command not held yet; safe to call again while one runs. */
  catchUp(commandId: string): Promise<void>;
  receive(event: LiveEvent): void;
}

/** The diagnostics store's handle (vanilla zustand; React reads it through context). */
export type DiagnosticsStore = StoreApi<DiagnosticsStoreState>;

/** `commands.output` pages asked for in one catch-up, at most (1000 lines each). */
const MAX_PAGES = 10;

const CLOSED = { deviceId: null, actions: { items: null, error: null }, outputs: {} } satisfies Partial<DiagnosticsStoreState>;

/** The diagnostics store over the bridge. */
export function createDiagnosticsStore(bridge: TetherBridge): DiagnosticsStore {
  const catchingUp = new Map<string, Promise<void>>();

  return createStore<DiagnosticsStoreState>()((set, get) => {
    const loadActions = async (deviceId: string) => {
      try {
        const { items } = await bridge.invoke('diagnostics.list', { deviceId });
        if (get().deviceId === deviceId) set({ actions: { items, error: null } });
      } catch (err) {
        if (get().deviceId === deviceId) set((s) => ({ actions: { items: s.actions.items, error: describeError(err) } }));
      }
    };

    const fetchMissing = async (deviceId: string, commandId: string) => {
      for (let page = 0; page < MAX_PAGES; page++) {
        const after = heldThrough(get().outputs[commandId]);
        const answer = await bridge.invoke('commands.output', { id: commandId, after });
        if (get().deviceId !== deviceId) return;
        set((s) => ({ outputs: { ...s.outputs, [commandId]: appendOutput(s.outputs[commandId], answer.lines) } }));
        if (answer.lines.length === 0 || heldThrough(get().outputs[commandId]) <= after) return;
      }
    };

    return {
      ...CLOSED,

      async open(deviceId) {
        if (get().deviceId === deviceId) return;
        set({ ...CLOSED, deviceId });
        await loadActions(deviceId);
      },

      async reload() {
        const { deviceId, outputs } = get();
        if (!deviceId) return;
        await Promise.all([loadActions(deviceId), ...Object.keys(outputs).map((id) => get().catchUp(id))]);
      },

      close() {
        set(CLOSED);
      },

      catchUp(commandId) {
        const deviceId = get().deviceId;
        if (!deviceId) return Promise.resolve();
        let running = catchingUp.get(commandId);
        if (!running) {
          running = fetchMissing(deviceId, commandId)
            // the live lines keep coming; a failed catch-up is retried on the next gap or reopen
            .catch(() => undefined)
            .finally(() => catchingUp.delete(commandId));
          catchingUp.set(commandId, running);
        }
        return running;
      },

      receive(event) {
        if (event.type !== 'command.progress' || event.deviceId !== get().deviceId) return;
        const held = get().outputs[event.commandId];
        const gap = leavesGap(held, event.lines);
        set((s) => ({ outputs: { ...s.outputs, [event.commandId]: appendOutput(s.outputs[event.commandId], event.lines, event.progress) } }));
        if (gap) void get().catchUp(event.commandId);
      },
    };
  });
}
