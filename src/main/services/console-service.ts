import { z } from 'zod';
import { TetherError } from '#contract/errors';
import { UserSchema } from '#contract/api/auth';
import { CommandAcceptedSchema, CommandViewSchema } from '#contract/api/commands';
import {
  AlarmSchema,
  CustomerSchema,
  DeviceDetailSchema,
  DeviceListResponseSchema,
  EventsResponseSchema,
  HistoryResponseSchema,
} from '#contract/api/fleet';
import type { ConnectionState, Profile, SessionState } from '#contract/ipc';
import {
  CommandOutputResponseSchema,
  DiagnosticListResponseSchema,
  SessionListResponseSchema,
  SessionViewSchema,
} from '#contract/api/sessions';
import { ListFilesResponseSchema } from '#contract/api/transfers';
import type { EventHub, IpcHandlers } from '../dispatch.ts';
import { isExternalAllowed } from '../security.ts';
import { type ProfileService, SIMULATOR_PROFILE_ID } from './profiles.ts';
import { ServerConnection } from './server-connection.ts';
import type { SettingsStore } from './settings.ts';
import type { SimulatorSupervisor } from './simulator.ts';
import type { SecretVault } from './vault.ts';
import type { FileDialogs } from './file-dialogs.ts';
import type { TransferEngine } from './transfers/engine.ts';
import type { PreflightService, SignedInServer } from './preflight-service.ts';
import type { ProxyService } from './proxy-service.ts';
import type { TunnelManager } from './tunnels/tunnel-manager.ts';
import type { TunnelTerminals } from './tunnels/tunnel-terminals.ts';
import { HealthResponseSchema } from '#contract/api/index';

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
  dialogs: FileDialogs;
  appInfo: { version: string; mode: 'electron' | 'browser'; platform: string };
  /** Opens a URL in the system browser (already allow-listed by the caller). */
  openExternal: (url: string) => Promise<void>;
  /** Settings for connections (tests shorten the live backoff). */
  connection?: { liveBackoff?: { baseMs: number; maxMs: number }; keepaliveMs?: number };
}

const refreshKey = (profileId: string) => `refresh-token:${profileId}`;
const q = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
  const text = search.toString();
  return text ? `?${text}` : '';
};
const enc = encodeURIComponent;

/** How long quitting waits for the server to close this console's tunnels. */
const TUNNEL_CLOSE_ON_QUIT_MS = 2000;

/** The server waits up to ~20 s for a device to list a folder: a little longer here. */
const LIST_FILES_TIMEOUT_MS = 30_000;

/**
 * The console's main-process behaviour behind the contract: profiles, sign-in (with the
 * simulator started on demand), the one live server connection, the fleet calls, and
 * file transfers (the engine follows the signed-in profile).
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
      const user = await connection.call('GET', '/me', UserSchema);
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

  readonly handlers: IpcHandlers = {
    'app.info': () => this.deps.appInfo,
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
    'fleet.customers': async () => this.api().call('GET', '/customers', z.object({ items: z.array(CustomerSchema) })),
    'fleet.devices': async (input) => this.api().call('GET', `/devices${q(input)}`, DeviceListResponseSchema),
    'fleet.device': async ({ id }) => this.api().call('GET', `/devices/${enc(id)}`, DeviceDetailSchema),
    'fleet.history': async ({ id, key, limit }) => this.api().call('GET', `/devices/${enc(id)}/data-items/${enc(key)}/history${q({ limit })}`, HistoryResponseSchema),
    'fleet.events': async ({ id, limit }) => this.api().call('GET', `/devices/${enc(id)}/events${q({ limit })}`, EventsResponseSchema),
    'alarms.acknowledge': async ({ id }) => this.api().call('POST', `/alarms/${enc(id)}/acknowledge`, AlarmSchema),
    'commands.list': async ({ deviceId }) => this.api().call('GET', `/devices/${enc(deviceId)}/commands${q({ limit: 50 })}`, z.object({ items: z.array(CommandViewSchema) })),
    'commands.send': async ({ deviceId, name, params, sessionId }) =>
      this.api().call('POST', `/devices/${enc(deviceId)}/commands`, CommandAcceptedSchema, { name, params, ...(sessionId ? { sessionId } : {}) }),
    'commands.get': async ({ id }) => this.api().call('GET', `/commands/${enc(id)}`, CommandViewSchema),
    'commands.cancel': async ({ id }) => this.api().call('POST', `/commands/${enc(id)}/cancel`, CommandViewSchema),
    'commands.output': async ({ id, after }) => this.api().call('GET', `/commands/${enc(id)}/output${q({ after })}`, CommandOutputResponseSchema),
    'diagnostics.list': async ({ deviceId }) => this.api().call('GET', `/devices/${enc(deviceId)}/diagnostics`, DiagnosticListResponseSchema),
    'sessions.request': async ({ deviceId, ...body }) => this.api().call('POST', `/devices/${enc(deviceId)}/sessions`, SessionViewSchema, body),
    'sessions.list': async ({ deviceId }) => this.api().call('GET', `/devices/${enc(deviceId)}/sessions`, SessionListResponseSchema),
    'sessions.get': async ({ id }) => this.api().call('GET', `/sessions/${enc(id)}`, SessionViewSchema),
    'sessions.extend': async ({ id, durationMinutes }) => this.api().call('POST', `/sessions/${enc(id)}/extend`, SessionViewSchema, { durationMinutes }),
    'sessions.end': async ({ id }) => this.api().call('POST', `/sessions/${enc(id)}/end`, SessionViewSchema),
    'sessions.join': async ({ id }) => this.api().call('POST', `/sessions/${enc(id)}/join`, SessionViewSchema),
    'sessions.leave': async ({ id }) => this.api().call('POST', `/sessions/${enc(id)}/leave`, SessionViewSchema),
    'transfers.list': () => ({ items: this.deps.transfers.list() }),
    'transfers.upload': (input) => this.deps.transfers.upload(input),
    'transfers.download': async (input) => ({ items: await this.deps.transfers.download(input) }),
    'transfers.pause': ({ id }) => this.deps.transfers.pause(id),
    'transfers.resume': ({ id }) => this.deps.transfers.resume(id),
    'transfers.cancel': ({ id }) => this.deps.transfers.cancel(id),
    'transfers.retry': ({ id }) => this.deps.transfers.retry(id),
    'tunnels.list': () => ({ items: this.deps.tunnels.list() }),
    'tunnels.open': (input) => this.deps.tunnels.open(input),
    'tunnels.close': ({ id }) => this.deps.tunnels.close(id),
    'tunnels.openInBrowser': async ({ id }) => {
      const tunnel = this.deps.tunnels.get(id);
      if (tunnel.kind !== 'http' || tunnel.closed || tunnel.localPort === null) throw new TetherError('TUNNEL_NOT_OPEN', 'only an open tunnel to a web page opens in the browser');
      // the URL is built here from the tunnel's own port: the renderer cannot name another
      await this.deps.openExternal(`http://127.0.0.1:${tunnel.localPort}/`);
      return {};
    },
    'tunnels.terminal.open': async ({ id }) => ({ terminalId: await this.deps.terminals.open(id) }),
    'tunnels.terminal.write': ({ terminalId, data }) => {
      this.deps.terminals.write(terminalId, data);
      return {};
    },
    'tunnels.terminal.close': ({ terminalId }) => {
      this.deps.terminals.close(terminalId);
      return {};
    },
    'files.list': async ({ deviceId, sessionId, path }) =>
      this.api().call('POST', `/devices/${enc(deviceId)}/files/list`, ListFilesResponseSchema, { sessionId, path }, { timeoutMs: LIST_FILES_TIMEOUT_MS }),
    'dialog.pickFiles': async () => ({ paths: await this.deps.dialogs.pickFiles() }),
    'dialog.pickFolder': async () => ({ path: await this.deps.dialogs.pickFolder() }),
    'simulator.status': () => this.deps.simulator.status(),
    'simulator.injectFault': async ({ serial, fault }) => {
      await this.deps.simulator.injectFault(serial, fault);
      return {};
    },
    'simulator.clearFaults': async ({ serial }) => {
      await this.deps.simulator.clearFaults(serial);
      return {};
    },
    'simulator.operatorState': async ({ serial }) => this.deps.simulator.operatorState(serial),
    'simulator.decideConsent': async ({ serial, sessionId, approve, operator }) => {
      await this.deps.simulator.decideConsent(serial, sessionId, approve, operator);
      return {};
    },
    'simulator.revokeSession': async ({ serial, sessionId, operator }) => {
      await this.deps.simulator.revokeSession(serial, sessionId, operator);
      return {};
    },
    'preflight.profiles': (input) => this.deps.preflight.handlers['preflight.profiles'](input),
    'preflight.saveProfile': (input) => this.deps.preflight.handlers['preflight.saveProfile'](input),
    'preflight.deleteProfile': (input) => this.deps.preflight.handlers['preflight.deleteProfile'](input),
    'preflight.importProfile': (input) => this.deps.preflight.handlers['preflight.importProfile'](input),
    'preflight.exportProfile': (input) => this.deps.preflight.handlers['preflight.exportProfile'](input),
    'preflight.run': (input) => this.deps.preflight.handlers['preflight.run'](input),
    'preflight.cancel': (input) => this.deps.preflight.handlers['preflight.cancel'](input),
    'preflight.report': (input) => this.deps.preflight.handlers['preflight.report'](input),
    'preflight.savePdf': (input) => this.deps.preflight.handlers['preflight.savePdf'](input),
    'proxy.get': (input) => this.deps.proxy.handlers['proxy.get'](input),
    'proxy.set': (input) => this.deps.proxy.handlers['proxy.set'](input),
    'proxy.test': (input) => this.deps.proxy.handlers['proxy.test'](input),
    'shell.openExternal': async ({ url }) => {
      if (!isExternalAllowed(url)) throw new TetherError('FORBIDDEN', 'that link is not on the list of pages the console may open');
      await this.deps.openExternal(url);
      return {};
    },
  };

  private api(): ServerConnection {
    if (!this.connection?.signedIn) throw new TetherError('NOT_SIGNED_IN', 'sign in first');
    return this.connection;
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

  private adopt(connection: ServerConnection, profile: Profile, user: z.infer<typeof UserSchema>): SessionState {
    this.session = { signedIn: true, user, profile, serverUrl: connection.target.url };
    connection.startLive();
    this.relayPorts = [];
    // the relay's ports join the derived pre-flight profile once known (an older server tells none)
    connection
      .call('GET', '/health', HealthResponseSchema)
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
