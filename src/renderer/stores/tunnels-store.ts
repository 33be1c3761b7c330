import { createStore, type StoreApi } from 'zustand/vanilla';
import type { IpcInput, TetherBridge, TunnelItem } from '#contract/ipc';
import { describeError } from '../lib/error-messages.ts';

/**
 * This console's tunnels, as main reports them with `tunnels.changed`: the device's
 * Tunnels tab and the header's Tunnels drawer read it.
 */
export interface TunnelsStoreState {
  /** null until the first list arrived. */
  items: readonly TunnelItem[] | null;
  error: string | null;
  drawerOpen: boolean;
  load(): Promise<void>;
  receive(items: readonly TunnelItem[]): void;
  setDrawerOpen(open: boolean): void;
  /** These reject with the BridgeError for the caller to phrase. */
  open(input: IpcInput<'tunnels.open'>): Promise<TunnelItem>;
  close(id: string): Promise<void>;
  /** Forgets everything (sign-out). */
  reset(): void;
}

export type TunnelsStore = StoreApi<TunnelsStoreState>;

/** The tunnels store over the bridge. */
export function createTunnelsStore(bridge: TetherBridge): TunnelsStore {
  return createStore<TunnelsStoreState>()((set, get) => {
    /** Takes one item a call answered with into the list; a newer event about it wins only while it is still open. */
    const merge = (item: TunnelItem) => {
      const items = get().items ?? [];
      const known = items.find((i) => i.id === item.id);
      if (known?.link === 'closed' && item.link !== 'closed') return;
      set({ items: known ? items.map((i) => (i.id === item.id ? item : i)) : [item, ...items], error: null });
    };
    return {
      items: null,
      error: null,
      drawerOpen: false,

      async load() {
        try {
          const { items } = await bridge.invoke('tunnels.list', {});
          set({ items, error: null });
        } catch (err) {
          set({ error: describeError(err) });
        }
      },

      receive(items) {
        set({ items, error: null });
      },

      setDrawerOpen(open) {
        set({ drawerOpen: open });
      },

      async open(input) {
        const item = await bridge.invoke('tunnels.open', input);
        merge(item);
        return item;
      },

      async close(id) {
        merge(await bridge.invoke('tunnels.close', { id }));
      },

      reset() {
        set({ items: null, error: null, drawerOpen: false });
      },
    };
  });
}
