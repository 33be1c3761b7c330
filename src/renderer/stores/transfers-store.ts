import { createStore, type StoreApi } from 'zustand/vanilla';
import type { IpcInput, TetherBridge, TransferItem } from '#contract/ipc';
import { describeError } from '../lib/error-messages.ts';
import { type TransferNotice, transferNotices } from './transfer-reducers.ts';

/**
 * The console's transfers (every device), as main's engine reports them with
 * `transfers.changed`; the Transfers drawer and the header's badge read it, and finished
 * transfers are announced. Downloads asked for in browser mode are also handed to the
 * browser once they complete (`onSaveDownload`).
 */
export interface TransfersStoreState {
  /** null until the first list arrived. */
  items: readonly TransferItem[] | null;
  error: string | null;
  drawerOpen: boolean;
  load(): Promise<void>;
  receive(items: readonly TransferItem[]): void;
  setDrawerOpen(open: boolean): void;
  /** Each of these rejects with the BridgeError for the caller to phrase. */
  upload(input: IpcInput<'transfers.upload'>): Promise<TransferItem>;
  download(input: IpcInput<'transfers.download'>, options?: { saveInBrowser?: boolean }): Promise<readonly TransferItem[]>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  cancel(id: string): Promise<void>;
  retry(id: string): Promise<void>;
  /** Forgets everything (sign-out). */
  reset(): void;
}

/** The transfers store's handle (vanilla zustand; React reads it through context). */
export type TransfersStore = StoreApi<TransfersStoreState>;

export interface TransfersStoreHooks {
  onNotice?: (notice: TransferNotice) => void;
  /** A download this window asked the browser to save has completed. */
  onSaveDownload?: (item: TransferItem) => void;
}

const EMPTY = { items: null, error: null } satisfies Partial<TransfersStoreState>;

/** The transfers store over the bridge. */
export function createTransfersStore(bridge: TetherBridge, hooks: TransfersStoreHooks = {}): TransfersStore {
  /** Downloads to hand to the browser once complete (browser mode). */
  const toSave = new Set<string>();

  return createStore<TransfersStoreState>()((set, get) => {
    const adopt = (items: readonly TransferItem[]) => {
      const before = get().items;
      set({ items, error: null });
      for (const notice of transferNotices(before, items)) hooks.onNotice?.(notice);
      for (const item of items) {
        if (item.state === 'completed' && toSave.delete(item.id)) hooks.onSaveDownload?.(item);
        else if (item.state === 'failed' || item.state === 'canceled') toSave.delete(item.id);
      }
    };
    /** Takes one item a call answered with into the list; an event may have brought a newer one already. */
    const merge = (item: TransferItem) => {
      const items = get().items ?? [];
      const known = items.find((i) => i.id === item.id);
      if (known && Date.parse(known.updatedAt) > Date.parse(item.updatedAt)) return;
      adopt(known ? items.map((i) => (i.id === item.id ? item : i)) : [item, ...items]);
    };

    return {
      ...EMPTY,
      drawerOpen: false,

      async load() {
        try {
          const { items } = await bridge.invoke('transfers.list', {});
          // a list is a baseline, not a change: nothing to announce
          set({ items, error: null });
        } catch (err) {
          set({ error: describeError(err) });
        }
      },

      receive(items) {
        adopt(items);
      },

      setDrawerOpen(open) {
        set({ drawerOpen: open });
      },

      async upload(input) {
        const item = await bridge.invoke('transfers.upload', input);
        merge(item);
        return item;
      },

      async download(input, options = {}) {
        const { items } = await bridge.invoke('transfers.download', input);
        if (options.saveInBrowser) for (const item of items) toSave.add(item.id);
        for (const item of items) merge(item);
        return items;
      },

      async pause(id) {
        merge(await bridge.invoke('transfers.pause', { id }));
      },

      async resume(id) {
        merge(await bridge.invoke('transfers.resume', { id }));
      },

      async cancel(id) {
        merge(await bridge.invoke('transfers.cancel', { id }));
      },

      async retry(id) {
        merge(await bridge.invoke('transfers.retry', { id }));
      },

      reset() {
        toSave.clear();
        set({ ...EMPTY, drawerOpen: false });
      },
    };
  });
}
