import { createStore, type StoreApi } from 'zustand/vanilla';
import type { TetherBridge } from '#contract/ipc';
import type { FileEntry } from '#contract/transfers';
import { describeError } from '../lib/error-messages.ts';

/**
 * The remote file browser of the device on screen: the folder shown (a `list-files`
 * command in the session each time), its entries, and the files checked for download.
 */
export interface FilesStoreState {
  deviceId: string | null;
  sessionId: string | null;
  path: string;
  /** null while the first listing of a folder is on its way. */
  entries: readonly FileEntry[] | null;
  loading: boolean;
  error: string | null;
  /** Device paths of the checked files. */
  selected: ReadonlySet<string>;
  /** Opens the browser for a device in a session, at `/` (the model's roots); the same again lists the folder shown anew. */
  open(deviceId: string, sessionId: string): Promise<void>;
  browse(path: string): Promise<void>;
  /** Lists the folder shown again (after an upload into it finished). */
  reload(): Promise<void>;
  toggle(path: string): void;
  /** Checks every file of the folder, or none. */
  selectAll(checked: boolean): void;
  close(): void;
}

/** The files store's handle (vanilla zustand; React reads it through context). */
export type FilesStore = StoreApi<FilesStoreState>;

const CLOSED = { deviceId: null, sessionId: null, path: '/', entries: null, loading: false, error: null, selected: new Set<string>() } satisfies Partial<FilesStoreState>;

/** Folders first, then by name, as a file manager lists them. */
export function sortEntries(entries: readonly FileEntry[]): FileEntry[] {
  return [...entries].sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'directory' ? -1 : 1));
}

/** The breadcrumb of a device path: "/" then each folder ("/logs", "/logs/old"). */
export function breadcrumbOf(path: string): { label: string; path: string }[] {
  const parts = path.split('/').filter(Boolean);
  return [{ label: 'Device', path: '/' }, ...parts.map((name, i) => ({ label: name, path: `/${parts.slice(0, i + 1).join('/')}` }))];
}

/** The folder a device path is in ("/logs/a.log" → "/logs"). */
export function parentOf(path: string): string {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

/** The files store over the bridge. */
export function createFilesStore(bridge: TetherBridge): FilesStore {
  /** Answers of an earlier request are dropped: the user may click on faster than devices answer. */
  let requestSeq = 0;

  return createStore<FilesStoreState>()((set, get) => {
    const list = async (path: string, keepSelection: boolean) => {
      const { deviceId, sessionId } = get();
      if (!deviceId || !sessionId) return;
      const seq = ++requestSeq;
      set((s) => ({ path, loading: true, error: null, entries: s.path === path ? s.entries : null, selected: keepSelection ? s.selected : new Set() }));
      try {
        const answer = await bridge.invoke('files.list', { deviceId, sessionId, path });
        if (seq !== requestSeq) return;
        const entries = sortEntries(answer.entries);
        const present = new Set(entries.map((e) => e.path));
        set((s) => ({ entries, loading: false, selected: new Set([...s.selected].filter((p) => present.has(p))) }));
      } catch (err) {
        if (seq === requestSeq) set({ loading: false, error: describeError(err) });
      }
    };

    return {
      ...CLOSED,

      async open(deviceId, sessionId) {
        if (get().deviceId === deviceId && get().sessionId === sessionId) {
          await list(get().path, true);
          return;
        }
        set({ ...CLOSED, deviceId, sessionId, selected: new Set() });
        await list('/', false);
      },

      async browse(path) {
        await list(path, false);
      },

      async reload() {
        await list(get().path, true);
      },

      toggle(path) {
        set((s) => {
          const selected = new Set(s.selected);
          if (!selected.delete(path)) selected.add(path);
          return { selected };
        });
      },

      selectAll(checked) {
        set((s) => ({ selected: new Set(checked ? (s.entries ?? []).filter((e) => e.type === 'file').map((e) => e.path) : []) }));
      },

      close() {
        requestSeq += 1;
        set({ ...CLOSED, selected: new Set() });
      },
    };
  });
}
