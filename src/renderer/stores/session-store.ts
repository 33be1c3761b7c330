import { createStore, type StoreApi } from 'zustand/vanilla';
import type { ConnectionState, SessionState, SimulatorStatus, TetherBridge } from '#contract/ipc';

/** Where the user is: the fleet (or the sign-in screen when signed out), one device, or the network pre-flight. */
export type Route = { screen: 'fleet' } | { screen: 'device'; deviceId: string } | { screen: 'preflight' };

/** Who is signed in where, how the link to the server is doing, and which screen is shown. */
export interface SessionStoreState {
  /** null until `session.get` answered (the shell shows nothing before). */
  session: SessionState | null;
  /** Set when the console process could not be asked at all. */
  startError: unknown;
  /** The live connection; null until main reports one (assumed online right after sign-in). */
  connection: ConnectionState | null;
  simulator: SimulatorStatus;
  /** Why the last session ended, shown on the sign-in screen until the next sign-in. */
  endedMessage: string | null;
  route: Route;
  start(): Promise<void>;
  /** Rejects with the BridgeError for the sign-in screen to phrase. */
  signIn(profileId: string, username: string, password: string): Promise<void>;
  signInSimulator(devices: number): Promise<void>;
  signOut(): Promise<void>;
  sessionEnded(message: string): void;
  connectionChanged(state: ConnectionState): void;
  simulatorChanged(status: SimulatorStatus): void;
  openDevice(deviceId: string): void;
  openFleet(): void;
  /** The Pre-flight screen, signed in or not. */
  openPreflight(): void;
}

/** The session store's handle (vanilla zustand; React reads it through context). */
export type SessionStore = StoreApi<SessionStoreState>;

/** What the session store tells the others: the signed-in user is gone, drop their data. */
export interface SessionStoreHooks {
  onSignedOut: () => void;
}

/** Connection state assumed right after a successful sign-in, until main reports one. */
function signedInConnection(): ConnectionState {
  return { state: 'online', detail: null, since: new Date().toISOString(), resumed: false };
}

/** The session store over the bridge. */
export function createSessionStore(bridge: TetherBridge, hooks: SessionStoreHooks): SessionStore {
  return createStore<SessionStoreState>()((set, get) => {
    const adoptSession = (session: SessionState) =>
      set((s) => ({
        session,
        endedMessage: session.signedIn ? null : s.endedMessage,
        route: { screen: 'fleet' },
        // a live state reported while signing in is newer than the assumption
        connection: session.signedIn ? (s.connection ?? signedInConnection()) : null,
      }));
    const adopt = (session: SessionState) => {
      adoptSession(session);
      if (!session.signedIn) return;
      // events tell only of changes: ask main for the state the link is in now
      void bridge.invoke('connection.get', {}).then(
        (state) => {
          if (state && get().session?.signedIn) set({ connection: state });
        },
        () => undefined,
      );
    };

    return {
      session: null,
      startError: null,
      connection: null,
      simulator: { phase: 'idle', devices: null, message: null },
      endedMessage: null,
      route: { screen: 'fleet' },

      async start() {
        try {
          const [session, simulator] = await Promise.all([bridge.invoke('session.get', {}), bridge.invoke('simulator.status', {})]);
          set({ simulator });
          adopt(session);
        } catch (err) {
          set({ startError: err });
        }
      },

      async signIn(profileId, username, password) {
        set({ connection: null });
        adopt(await bridge.invoke('session.signIn', { profileId, username, password }));
      },

      async signInSimulator(devices) {
        set({ connection: null });
        adopt(await bridge.invoke('session.signInSimulator', { devices }));
      },

      async signOut() {
        try {
          await bridge.invoke('session.signOut', {});
        } finally {
          hooks.onSignedOut();
          set({ session: { signedIn: false }, connection: null, route: { screen: 'fleet' } });
        }
      },

      sessionEnded(message) {
        hooks.onSignedOut();
        set({ session: { signedIn: false }, connection: null, endedMessage: message, route: { screen: 'fleet' } });
      },

      connectionChanged(state) {
        set({ connection: state });
      },

      simulatorChanged(status) {
        set({ simulator: status });
      },

      openDevice(deviceId) {
        if (get().session?.signedIn) set({ route: { screen: 'device', deviceId } });
      },

      openFleet() {
        set({ route: { screen: 'fleet' } });
      },

      openPreflight() {
        set({ route: { screen: 'preflight' } });
      },
    };
  });
}
