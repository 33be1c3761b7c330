import { TetherError } from '#contract/errors';
import type { User } from '#contract/api/auth';
import type { ConnectionState, Profile, SessionState } from '#contract/ipc';
import type { EventHub, HandlerSlice } from '../dispatch.ts';
import { type ProfileService, SIMULATOR_PROFILE_ID } from './profiles.ts';
import { type ConsoleApi, ServerConnection } from './server-connection.ts';
import type { SettingsStore } from './settings.ts';
import type { SimulatorSupervisor } from './simulator.ts';
import type { SecretVault } from './vault.ts';
import type { TransferEngine } from './transfers/engine.ts';
import type { PreflightService, SignedInServer } from './preflight-service.ts';
import type { ProxyService } from './proxy-service.ts';
import type { TunnelManager } from './tunnels/tunnel-manager.ts';
import type { TunnelTerminals } from './tunnels/tunnel-terminals.ts';

export interface ConsoleServiceDeps {
  profiles: ProfileService;
  /** The console-wide proxy; a profile's own proxy overrides it. */
  proxy: ProxyService;
  settings: SettingsStore;
  vault: SecretVault;
  simulator: SimulatorSupervisor;
  events: EventHub;
  transfers: TransferEngine;
  tunnels: TunnelManager;
  terminals: TunnelTerminals;
  preflight: PreflightService;
  /** Settings for connections (tests shorten the live backoff). */
  connection?: { liveBackoff?: { baseMs: number; maxMs: number }; keepaliveMs?: number };
}

const refreshKey = (profileId: string) => `refresh-token:${profileId}`;

/** How long quitting waits for the server to close this console's tunnels. */
const TUNNEL_CLOSE_ON_QUIT_MS = 2000;

/**
 * Sign-in and the one live server connection: profiles; signing in (the simulator started
 * on demand), signing out, resuming after a restart; the session and connection state.
 * Transfers and tunnels follow the signed-in user, and every domain's server calls go
 * through `api()`.
 */
export class ConsoleService {
  private connection: ServerConnection | undefined;
  private session: SessionState = { signedIn: false };
  private connectionState: ConnectionState | null = null;
  private relayPorts: readonly number[] = [];

  constructor(private readonly deps: ConsoleServiceDeps) {}

  /** Resumes the last remembered session, if its refresh token is still good. */
  async resumeLastSession(): Promise<void> {
    const id = this.deps.settings.get().lastUsedProfileId;
    if (!id || id === SIMULATOR_PROFILE_ID) return;
    const token = this.deps.vault.get(refreshKey(id));
    if (!token) return;
    try {
      const profile = this.deps.profiles.get(id);
      const connection = this.connect(profile, profile.url, profile.caPem);
      await connection.resume(token);
      const user = await connection.api.call('auth.me', {});
      this.adopt(connection, profile, user);
    } catch {
      this.deps.vault.delete(refreshKey(id));
      this.disconnect();
    }
  }

  /** The server signed in to, for the pre-flight's derived profile; null when signed out. */
  signedInServer(): SignedInServer | null {
    return this.session.signedIn && this.connection ? { url: this.connection.target.url, caPem: this.connection.target.caPem, relayPorts: this.relayPorts } : null;
  }

  /** Quitting: stops pre-flight runs, terminals and tunnels, the connection and the simulator. */
  async shutdown(): Promise<void> {
    this.deps.preflight.shutdown();
    this.deps.transfers.detach();
    this.deps.terminals.closeAll();
    // tunnels end with the console that carries them; quitting must stay quick, so best effort
    await Promise.race([this.deps.tunnels.closeAll(), new Promise((resolve) => setTimeout(resolve, TUNNEL_CLOSE_ON_QUIT_MS).unref())]);
    this.deps.tunnels.detach();
    this.connection?.close();
    await this.deps.simulator.stop();
  }

  /** This service's part of the IPC table: profiles, signing in and out, the session and connection state. */
  readonly handlers: HandlerSlice<'profiles.' | 'session.' | 'connection.'> = {
    'profiles.list': () => ({ profiles: this.deps.profiles.list(), lastUsedId: this.deps.settings.get().lastUsedProfileId }),
    'profiles.save': (input) => this.deps.profiles.save(input),
    'profiles.remove': (input) => {
      this.deps.profiles.remove(input.id);
      this.deps.vault.delete(refreshKey(input.id));
      return {};
    },
    'session.get': () => this.session,
    'session.signIn': async ({ profileId, username, password }) => {
      const profile = this.deps.profiles.get(profileId);
      if (profile.kind === 'simulator') throw new TetherError('VALIDATION_FAILED', 'start the offline simulator instead of signing in to it');
      this.disconnect();
      const connection = this.connect(profile, profile.url, profile.caPem);
      try {
        const login = await connection.signIn(username, password);
        this.deps.settings.update((s) => ({ ...s, lastUsedProfileId: profile.id, lastUsername: { ...s.lastUsername, [profile.id]: username } }));
        return this.adopt(connection, profile, login.user);
      } catch (err) {
        this.disconnect();
        throw err;
      }
    },
    'session.signInSimulator': async ({ devices }) => {
      this.disconnect();
      const endpoint = await this.deps.simulator.ensureRunning(devices);
      const profile = { ...this.deps.profiles.get(SIMULATOR_PROFILE_ID), url: endpoint.url };
      const connection = this.connect(profile, endpoint.url, endpoint.caPem);
      try {
        const login = await connection.signIn(endpoint.username, endpoint.password);
        this.deps.settings.update((s) => ({ ...s, lastUsedProfileId: SIMULATOR_PROFILE_ID, simulatorDevices: devices }));
        return this.adopt(connection, profile, login.user);
      } catch (err) {
        this.disconnect();
        throw err;
      }
    },
    'connection.get': () => (this.session.signedIn ? this.connectionState : null),
    'session.signOut': async () => {
      const profile = this.session.signedIn ? this.session.profile : undefined;
      this.deps.transfers.detach();
      // signing out ends this user's tunnels: nobody here can carry them any more
      await this.deps.tunnels.closeAll();
      this.deps.tunnels.detach();
      await this.connection?.signOut();
      this.connection = undefined;
      this.session = { signedIn: false };
      if (profile) this.deps.vault.delete(refreshKey(profile.id));
      return {};
    },
  };

  /** The signed-in server connection every domain's server calls go through; NOT_SIGNED_IN when signed out. */
  api(): ConsoleApi {
    if (!this.connection?.signedIn) throw new TetherError('NOT_SIGNED_IN', 'sign in first');
    return this.connection.api;
  }

  private connect(profile: Profile, url: string, caPem: string | null): ServerConnection {
    const remember = profile.kind !== 'simulator' && this.deps.vault.persistent;
    const connection: ServerConnection = new ServerConnection(
      {
        url,
        caPem,
        proxy: this.deps.profiles.proxyFor(profile),
        // the simulator runs on this machine: never through the network's proxy
        resolveProxy: profile.kind === 'simulator' ? undefined : (target) => this.deps.proxy.resolver.resolve(target),
      },
      {
        onRefreshToken: (token) => {
          if (!remember) return;
          if (token) this.deps.vault.set(refreshKey(profile.id), token);
          else this.deps.vault.delete(refreshKey(profile.id));
        },
        onLiveEvent: (event) => {
          this.deps.events.emit('live.event', event);
          if (this.connection === connection) {
            this.deps.transfers.receive(event);
            this.deps.tunnels.receive(event);
          }
        },
        onConnectionState: (state) => {
          if (this.connection !== connection) return;
          this.connectionState = state;
          this.deps.events.emit('connection.state', state);
        },
        onSessionEnded: (error) => {
          if (this.connection !== connection) return;
          this.connection = undefined;
          this.session = { signedIn: false };
          this.deps.transfers.detach();
          this.deps.tunnels.detach();
          this.deps.events.emit('session.ended', { code: error.code, message: error.message });
        },
        ...(this.deps.connection ?? {}),
      },
    );
    this.connection = connection;
    return connection;
  }

  private adopt(connection: ServerConnection, profile: Profile, user: User): SessionState {
    this.session = { signedIn: true, user, profile, serverUrl: connection.target.url };
    connection.startLive();
    this.relayPorts = [];
    // the relay's ports join the derived pre-flight profile once known (an older server tells none)
    connection.api
      .call('health', {})
      .then((health) => {
        if (this.connection === connection) this.relayPorts = [health.relay.agentPort, health.relay.consolePort];
      })
      .catch(() => undefined);
    // transfers of this profile continue in the background; a failure shows on each transfer
    void this.deps.transfers.attach(connection, `${profile.id}/${user.id}`);
    this.deps.tunnels.attach(connection);
    return this.session;
  }

  private disconnect(): void {
    this.deps.transfers.detach();
    this.deps.tunnels.detach();
    this.connection?.close();
    this.connection = undefined;
    this.connectionState = null;
    this.session = { signedIn: false };
  }
}
