import { createStore, type StoreApi } from 'zustand/vanilla';
import type { CreateSessionRequest, SessionView } from '#contract/api/sessions';
import type { LiveEvent } from '#contract/api/live';
import type { TetherBridge } from '#contract/ipc';
import { describeError } from '../lib/error-messages.ts';
import { type SessionNotice, asJustRequested, isStaleUpdate, sessionNotice, upsertSession } from './service-session-reducers.ts';

/** Another engineer holds the device: their session, which this user may join as an observer. */
export interface BusyDevice {
  sessionId: string;
  message: string;
}

/**
 * The service sessions of the device on screen (history and the open one), kept current by
 * `session.state` events; and, for sessions on any device the user takes part in, the
 * changes worth a notification (consent given or refused, the end and its cause).
 */
export interface ServiceSessionStoreState {
  deviceId: string | null;
  /** Newest first; null until `sessions.list` answered. */
  sessions: readonly SessionView[] | null;
  error: string | null;
  /** Set when a request found the device busy; cleared by the next request or join. */
  busy: BusyDevice | null;
  open(deviceId: string): Promise<void>;
  /** Loads the list again (after a reconnect: events may have been missed). */
  reload(): Promise<void>;
  close(): void;
  /** Each of these rejects with the BridgeError for the caller to phrase. */
  request(input: CreateSessionRequest): Promise<SessionView>;
  extend(sessionId: string, durationMinutes: number): Promise<void>;
  end(sessionId: string): Promise<void>;
  join(sessionId: string): Promise<void>;
  leave(sessionId: string): Promise<void>;
  dismissBusy(): void;
  receive(event: LiveEvent): void;
  /** Forgets every session (sign-out). */
  reset(): void;
}

/** The service session store's handle (vanilla zustand; React reads it through context). */
export type ServiceSessionStore = StoreApi<ServiceSessionStoreState>;

/** What the store needs from the rest of the console, and tells it. */
export interface ServiceSessionStoreHooks {
  /** The signed-in user's id (to know whose sessions these are). */
  currentUserId: () => string | null;
  /** How notifications name a device ("SFX-US00001"). */
  deviceLabel: (deviceId: string) => string;
  onNotice?: (notice: SessionNotice, session: SessionView) => void;
}

/** Sessions remembered for change detection, across devices; older ones are forgotten first. */
const SEEN_KEPT = 500;

const CLOSED = { deviceId: null, sessions: null, error: null, busy: null } satisfies Partial<ServiceSessionStoreState>;

/** The service session store over the bridge. */
export function createServiceSessionStore(bridge: TetherBridge, hooks: ServiceSessionStoreHooks): ServiceSessionStore {
  /** The last version seen of each session, on any device: what a change is compared with. */
  const seen = new Map<string, SessionView>();
  /** Devices this console has a request in flight for: the answer and its event may cross. */
  const requesting = new Set<string>();

  const remember = (session: SessionView) => {
    seen.delete(session.id);
    seen.set(session.id, session);
    if (seen.size > SEEN_KEPT) seen.delete(seen.keys().next().value!);
  };

  return createStore<ServiceSessionStoreState>()((set, get) => {
    /** Takes a newer version of a session (from an answer or an event) and announces its change. */
    const adopt = (session: SessionView) => {
      const known = seen.get(session.id) ?? null;
      const before = known ?? (requesting.has(session.deviceId) && session.engineer.id === hooks.currentUserId() ? asJustRequested(session) : null);
      if (known && isStaleUpdate(known, session)) return;
      remember(session);
      if (get().deviceId === session.deviceId) set((s) => ({ sessions: upsertSession(s.sessions ?? [], session) }));
      const notice = sessionNotice(before, session, hooks.currentUserId(), hooks.deviceLabel(session.deviceId));
      if (notice) hooks.onNotice?.(notice, session);
    };

    const load = async (deviceId: string) => {
      try {
        const { items } = await bridge.invoke('sessions.list', { deviceId });
        if (get().deviceId !== deviceId) return;
        // a list is a baseline, not a change: merged quietly with anything newer already seen
        const newest = (item: SessionView) => {
          const known = seen.get(item.id);
          return known && isStaleUpdate(known, item) ? known : item;
        };
        const merged = items.reduce<readonly SessionView[]>((list, item) => upsertSession(list, newest(item)), get().sessions ?? []);
        for (const item of merged) remember(item);
        set({ sessions: merged, error: null });
      } catch (err) {
        if (get().deviceId === deviceId) set({ error: describeError(err) });
      }
    };

    return {
      ...CLOSED,

      async open(deviceId) {
        if (get().deviceId === deviceId) return;
        set({ ...CLOSED, deviceId });
        await load(deviceId);
      },

      async reload() {
        const { deviceId } = get();
        if (deviceId) await load(deviceId);
      },

      close() {
        set(CLOSED);
      },

      async request(input) {
        const deviceId = get().deviceId;
        if (!deviceId) throw new Error('no device is open');
        set({ busy: null });
        requesting.add(deviceId);
        try {
          const session = await bridge.invoke('sessions.request', { deviceId, ...input });
          adopt(session);
          return session;
        } catch (err) {
          const sessionId = busySessionOf(err);
          if (sessionId && get().deviceId === deviceId) {
            set({ busy: { sessionId, message: describeError(err) } });
            void load(deviceId);
          }
          throw err;
        } finally {
          requesting.delete(deviceId);
        }
      },

      async extend(sessionId, durationMinutes) {
        adopt(await bridge.invoke('sessions.extend', { id: sessionId, durationMinutes }));
      },

      async end(sessionId) {
        adopt(await bridge.invoke('sessions.end', { id: sessionId }));
      },

      async join(sessionId) {
        adopt(await bridge.invoke('sessions.join', { id: sessionId }));
        set({ busy: null });
      },

      async leave(sessionId) {
        adopt(await bridge.invoke('sessions.leave', { id: sessionId }));
      },

      dismissBusy() {
        set({ busy: null });
      },

      receive(event) {
        if (event.type === 'session.state') adopt(event.session);
      },

      reset() {
        seen.clear();
        requesting.clear();
        set(CLOSED);
      },
    };
  });
}

/** The session holding the device, from a SESSION_BUSY error; undefined for any other failure. */
function busySessionOf(err: unknown): string | undefined {
  const coded = err as { code?: unknown; details?: Record<string, unknown> } | null;
  const sessionId = coded?.code === 'SESSION_BUSY' ? coded.details?.sessionId : undefined;
  return typeof sessionId === 'string' ? sessionId : undefined;
}
