import { createStore, type StoreApi } from 'zustand/vanilla';
import type { PreflightProfileEntry, PreflightProgress, TetherBridge } from '#contract/ipc';
import type { PreflightProfile } from '#contract/preflight';
import { describeError } from '../lib/error-messages.ts';
import { type PreflightRunView, applyProgress, isRunActive, startedRun } from './preflight-reducers.ts';

/**
 * The Pre-flight screen's state: the profiles to choose from, the chosen one, and the
 * run on screen as main reports it with `preflight.progress`.
 */
export interface PreflightStoreState {
  profiles: readonly PreflightProfileEntry[];
  selectedId: string | null;
  /** Why the profiles could not be loaded or a run not started. */
  error: string | null;
  run: PreflightRunView | null;
  load(): Promise<void>;
  select(id: string): void;
  /** Runs the selected profile, through `proxyUrl` (http://[user:pass@]host:port) when given. */
  start(proxyUrl?: string): Promise<void>;
  cancel(): Promise<void>;
  receive(event: PreflightProgress): void;
  /** Each of these rejects with the BridgeError for the caller to phrase. */
  saveProfile(profile: PreflightProfile): Promise<void>;
  deleteProfile(id: string): Promise<void>;
  importProfile(json: string): Promise<PreflightProfile>;
  exportProfile(id: string): Promise<{ fileName: string; json: string }>;
  report(format: 'json' | 'html'): Promise<{ fileName: string; text: string }>;
  savePdf(): Promise<string | null>;
}

export type PreflightStore = StoreApi<PreflightStoreState>;

/** The pre-flight store over the bridge. */
export function createPreflightStore(bridge: TetherBridge): PreflightStore {
  return createStore<PreflightStoreState>()((set, get) => {
    const finishedRunId = (): string => {
      const run = get().run;
      if (!run || isRunActive(run)) throw new Error('run the check first; the report is ready when it finishes');
      return run.runId;
    };
    const refresh = async (selectId?: string) => {
      const { profiles } = await bridge.invoke('preflight.profiles', {});
      const wanted = selectId ?? get().selectedId;
      set({ profiles, selectedId: profiles.some((e) => e.profile.id === wanted) ? wanted : (profiles[0]?.profile.id ?? null) });
    };

    return {
      profiles: [],
      selectedId: null,
      error: null,
      run: null,

      async load() {
        try {
          await refresh();
          set({ error: null });
        } catch (err) {
          set({ error: describeError(err) });
        }
      },

      select(id) {
        set({ selectedId: id });
      },

      async start(proxyUrl) {
        const { selectedId, profiles, run } = get();
        const entry = profiles.find((e) => e.profile.id === selectedId);
        if (!entry || isRunActive(run)) return;
        try {
          const proxy = proxyUrl?.trim();
          const started = await bridge.invoke('preflight.run', { profileId: entry.profile.id, ...(proxy ? { proxy: { url: proxy } } : {}) });
          set({ run: startedRun(entry.profile.name, started), error: null });
        } catch (err) {
          set({ error: describeError(err) });
        }
      },

      async cancel() {
        const run = get().run;
        if (!run || run.phase !== 'running') return;
        set({ run: { ...run, phase: 'canceling' } });
        await bridge.invoke('preflight.cancel', { runId: run.runId });
      },

      receive(event) {
        const run = get().run;
        if (run) set({ run: applyProgress(run, event) });
      },

      async saveProfile(profile) {
        const saved = await bridge.invoke('preflight.saveProfile', { profile });
        await refresh(saved.id);
      },

      async deleteProfile(id) {
        await bridge.invoke('preflight.deleteProfile', { id });
        await refresh();
      },

      importProfile: (json) => bridge.invoke('preflight.importProfile', { json }),
      exportProfile: (id) => bridge.invoke('preflight.exportProfile', { id }),
      report: async (format) => bridge.invoke('preflight.report', { runId: finishedRunId(), format }),
      savePdf: async () => (await bridge.invoke('preflight.savePdf', { runId: finishedRunId() })).path,
    };
  });
}
