import { createStore, type StoreApi } from 'zustand/vanilla';
import type { OperatorState, TetherBridge } from '#contract/ipc';
import { describeError } from '../lib/error-messages.ts';

/**
 * The device panel of the offline simulator: what the operator at the simulated device on
 * screen sees (consent questions waiting, sessions connected), from
 * `simulator.operatorState` and then live `simulator.operator` events for its serial.
 */
export interface OperatorStoreState {
  serial: string | null;
  state: OperatorState | null;
  /** When `state` arrived: its consent questions count down from here. */
  receivedAt: number;
  error: string | null;
  open(serial: string): Promise<void>;
  reload(): Promise<void>;
  close(): void;
  receive(state: OperatorState): void;
}

/** The operator store's handle (vanilla zustand; React reads it through context). */
export type OperatorStore = StoreApi<OperatorStoreState>;

const CLOSED = { serial: null, state: null, receivedAt: 0, error: null } satisfies Partial<OperatorStoreState>;

/** The operator store over the bridge. */
export function createOperatorStore(bridge: TetherBridge): OperatorStore {
  return createStore<OperatorStoreState>()((set, get) => {
    const load = async (serial: string) => {
      try {
        const state = await bridge.invoke('simulator.operatorState', { serial });
        if (get().serial === serial) set({ state, receivedAt: Date.now(), error: null });
      } catch (err) {
        if (get().serial === serial) set({ error: describeError(err) });
      }
    };

    return {
      ...CLOSED,

      async open(serial) {
        if (get().serial === serial) return;
        set({ ...CLOSED, serial });
        await load(serial);
      },

      async reload() {
        const { serial } = get();
        if (serial) await load(serial);
      },

      close() {
        set(CLOSED);
      },

      receive(state) {
        if (state.serial === get().serial) set({ state, receivedAt: Date.now(), error: null });
      },
    };
  });
}
