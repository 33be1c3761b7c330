import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Transaction } from 'kysely';
import { API_ROUTES } from '#contract/http/api-routes';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { pathOf } from '#contract/http/client';
import { TetherError } from '#contract/errors';
import type { OpenTunnelResponse, TunnelTicket, TunnelView } from '#contract/api/tunnels';
import { isDeviceModelId, tunnelTargetOf } from '#contract/device-models';
import type { SessionEndCause } from '#contract/sessions';
import { TUNNEL_WIRE, type RelayEndpoint, type TunnelEndCause, type TunnelPath, type TunnelState } from '#contract/tunnels';
import type { ServerContext } from '../context.ts';
import { type Principal, can, inScope, scopeFilter } from '../access/principal.ts';
import { authenticateDeviceConnection } from '../agent-api/device-auth.ts';
import type { AuditInput } from '../audit/audit-log.ts';
import type { AuthService } from '../auth/auth-service.ts';
import type { CommandService, StateChange } from '../commands/command-service.ts';
import { publishLive } from '../live/publish.ts';
import type { SessionGate } from '../sessions/session-gate.ts';
import type { SessionParticipant } from '../sessions/session-participant.ts';
import type { Database, ServiceSessionRow, TunnelRow } from '../store/schema.ts';
import { TunnelRelay, type RelayHooks, type TunnelLeg } from './relay.ts';
import { issueTicketIn, redeemTicketIn, ticketRefused } from './tickets.ts';
import { type NamedTunnelRow, toTunnelView, tunnelsWithNames } from './views.ts';

type Trx = Transaction<Database>;
type Actor = Pick<AuditInput, 'actorType' | 'actorId' | 'actorName' | 'ip'>;

const SYSTEM_ACTOR: Actor = { actorType: 'system', actorName: 'tether-server', ip: null };
const userActor = (p: Principal, ip: string | null): Actor => ({ actorType: 'user', actorId: p.id, actorName: p.username, ip });
const FLUSH_EVERY_MS = 1000;
/**
 * The tunnel's command lives as long as the tunnel may: its session's end (extensions
 * included) or the tunnel's close cancels it first, so its own expiry only bounds a
 * command the server forgot — one day, the longest a session can be extended to in practice.
 */
const TUNNEL_COMMAND_TTL_MS = 24 * 3600 * 1000;

/** How the console reached the API, so the relay endpoint it is told names the same host. */
export interface ClientOrigin {
  /** Host name without port. */
  hostname: string;
  /** Host with the API port, as in the request. */
  host: string;
}

/**
 * Tunnels to device service ports. A tunnel is opened in an active session with the
 * `tunnel` scope to a target the device model allows; opening queues the device's
 * `open-tunnel` command in the same transaction, and the console gets a one-time ticket
 * for its leg. The relay carries the bytes; this service admits legs, keeps the row
 * (state, paths, counters flushed about once a second), audits every open, close and
 * refusal, and closes a tunnel when the engineer, its session, the agent, the setup
 * deadline or the server says so — cutting both legs at once.
 */
export class TunnelService implements SessionParticipant, RelayHooks {
  readonly relay: TunnelRelay;
  private ports = { agentPort: 0, consolePort: 0 };
  private readonly setupTimers = new Map<string, NodeJS.Timeout>();
  private readonly flushed = new Map<string, string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly ctx: ServerContext,
    private readonly auth: AuthService,
    private readonly commands: CommandService,
    private readonly sessions: SessionGate,
  ) {
    this.relay = new TunnelRelay(this);
    this.unsubscribe = ctx.bus.subscribe('live', ({ event }) => {
      if (event.type !== 'command.state' || event.command.name !== 'open-tunnel') return;
      const { id, state } = event.command;
      if (!['succeeded', 'failed', 'expired', 'canceled'].includes(state)) return;
      this.onCommandEnded(id).catch((err: unknown) => ctx.log.error({ err, commandId: id }, 'could not act on an open-tunnel command’s end'));
    });
  }

  /** Opens the relay ports (unless `direct` is off) and starts flushing counters. */
  async start(host: string): Promise<void> {
    const settings = this.ctx.config.tunnels;
    if (settings.direct) {
      const { pki } = this.ctx;
      this.ports = await this.relay.listen({ host, agentPort: settings.agentPort, consolePort: settings.consolePort, keyPem: pki.server.keyPem, certPem: pki.server.certPem, deviceCaPem: pki.deviceCa.certPem });
    }
    this.flushTimer = setInterval(() => {
      this.flushCounters().catch((err: unknown) => this.ctx.log.error({ err }, 'could not flush tunnel counters'));
    }, FLUSH_EVERY_MS);
    this.flushTimer.unref();
  }

  /** The relay ports bound (0 until started or when `direct` is off). */
  get relayPorts(): { agentPort: number; consolePort: number } {
    return { ...this.ports };
  }

  /** The relay ports clients are told (what a site's firewall must let out): the bound ones, or the unreachable one while `direct` is off. */
  get advertisedPorts(): { agentPort: number; consolePort: number } {
    const settings = this.ctx.config.tunnels;
    return settings.direct ? this.relayPorts : { agentPort: settings.unreachablePort, consolePort: settings.unreachablePort };
  }

  /** Server shutdown: every tunnel still open closes (SERVER_STOPPED), then the ports. */
  async stop(): Promise<void> {
    this.unsubscribe();
    if (this.flushTimer) clearInterval(this.flushTimer);
    for (const id of this.relay.ids()) await this.closeTunnel(id, 'SERVER_STOPPED', SYSTEM_ACTOR).catch((err: unknown) => this.ctx.log.error({ err, tunnelId: id }, 'could not record a tunnel’s end'));
    await this.relay.close();
  }

  async open(principal: Principal, sessionId: string, targetId: string, origin: ClientOrigin, ip: string | null): Promise<OpenTunnelResponse> {
    const session = await this.ctx.db.selectFrom('service_sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
    const device = session && (await this.ctx.db.selectFrom('devices').selectAll().where('id', '=', session.device_id).executeTakeFirst());
    if (!session || !device || !inScope(principal, device.customer_id)) throw new TetherError('NOT_FOUND', `no session ${sessionId}`);
    let target;
    try {
      if (!can(principal, 'command')) throw new TetherError('FORBIDDEN', `your role (${principal.role}) may not open tunnels`);
      await this.sessions.requireControlledSession(principal, sessionId, device.id, 'tunnel');
      target = isDeviceModelId(device.model_id) ? tunnelTargetOf(device.model_id, targetId) : undefined;
      if (!target) throw new TetherError('TUNNEL_TARGET_NOT_ALLOWED', `this device model allows no tunnel to “${targetId}”`, { targetId });
    } catch (err) {
      if (err instanceof TetherError) await this.refused(userActor(principal, ip), device.id, { sessionId, targetId, step: 'open' }, err);
      throw err;
    }
    const now = Date.now();
    const id = randomUUID();
    const settings = this.ctx.config.tunnels;
    const { queued, ticket } = await this.ctx.db.transaction().execute(async (trx) => {
      const row = { id, device_id: device.id, customer_id: device.customer_id, session_id: sessionId, target_id: target.id, target_port: target.port, state: 'opening' as const, console_path: null, agent_path: null, bytes_to_device: 0, bytes_from_device: 0, total_connections: 0, opened_by: principal.id, opened_at: now, closed_at: null, end_cause: null, command_id: null };
      await trx.insertInto('tunnels').values(row).execute();
      const queued = await this.commands.enqueueIn(
        trx,
        // the command runs as long as the tunnel, which cannot outlive its session; the agent dials the host it polls
        { deviceId: device.id, customerId: device.customer_id, name: 'open-tunnel', params: { tunnelId: id, targetId: target.id, relay: this.endpoint('agent', id, origin) }, sessionId, ttlMs: TUNNEL_COMMAND_TTL_MS },
        { actorType: 'user', actorId: principal.id, actorName: principal.username, ip },
      );
      await trx.updateTable('tunnels').set({ command_id: queued.command.id }).where('id', '=', id).execute();
      await this.ctx.audit.appendIn(trx, { ...userActor(principal, ip), action: 'tunnel.open', targetType: 'device', targetId: device.id, outcome: 'ok', detail: { tunnelId: id, sessionId, targetId: target.id, targetPort: target.port } });
      return { queued, ticket: await issueTicketIn(trx, row, principal.id, settings.ticketTtlMs, now) };
    });
    this.relay.register(id, target.id, target.port);
    this.setupTimers.set(id, setTimeout(() => {
      this.setupTimers.delete(id);
      this.closeTunnel(id, 'SETUP_TIMEOUT', SYSTEM_ACTOR).catch((err: unknown) => this.ctx.log.error({ err, tunnelId: id }, 'could not close a tunnel whose device never joined'));
    }, settings.setupTimeoutMs));
    this.commands.announceQueued([queued]);
    const view = this.announce(await this.named(id));
    return { tunnel: view, link: { ticket: ticket.ticket, expiresAt: new Date(ticket.expiresAt).toISOString(), relay: this.endpoint('console', id, origin) } };
  }

  /** A fresh one-time ticket for the console leg of an open tunnel (to reconnect). */
  async ticket(principal: Principal, tunnelId: string, origin: ClientOrigin, ip: string | null): Promise<TunnelTicket> {
    const row = await this.visible(principal, tunnelId);
    try {
      if (row.opened_by !== principal.id) throw new TetherError('FORBIDDEN', 'only the engineer who opened the tunnel may connect to it');
      if (row.state === 'closed' || !this.relay.has(row.id)) throw new TetherError('TUNNEL_NOT_OPEN', 'the tunnel is closed');
      await this.sessions.requireControlledSession(principal, row.session_id, row.device_id, 'tunnel');
    } catch (err) {
      if (err instanceof TetherError) await this.refused(userActor(principal, ip), row.device_id, { tunnelId, step: 'ticket' }, err);
      throw err;
    }
    const ticket = await this.ctx.db.transaction().execute((trx) => issueTicketIn(trx, row, principal.id, this.ctx.config.tunnels.ticketTtlMs, Date.now()));
    return { ticket: ticket.ticket, expiresAt: new Date(ticket.expiresAt).toISOString(), relay: this.endpoint('console', tunnelId, origin) };
  }

  /** Closes a tunnel by hand: its opener, or an administrator. */
  async close(principal: Principal, tunnelId: string, ip: string | null): Promise<TunnelView> {
    const row = await this.visible(principal, tunnelId);
    if (row.opened_by !== principal.id && !can(principal, 'admin')) {
      const error = new TetherError('FORBIDDEN', 'only the engineer who opened the tunnel (or an administrator) may close it');
      await this.refused(userActor(principal, ip), row.device_id, { tunnelId, step: 'close' }, error);
      throw error;
    }
    if (row.state === 'closed') throw new TetherError('TUNNEL_NOT_OPEN', 'the tunnel is closed already', { endCause: row.end_cause });
    await this.closeTunnel(tunnelId, 'USER_CLOSED', userActor(principal, ip));
    return this.view(tunnelId);
  }

  async get(principal: Principal, tunnelId: string): Promise<TunnelView> {
    await this.visible(principal, tunnelId);
    return this.view(tunnelId);
  }

  /** The caller's own tunnels: open ones first, then the most recent. */
  async listMine(principal: Principal, query: { limit: number; state?: TunnelState | undefined }): Promise<TunnelView[]> {
    const scope = scopeFilter(principal);
    if (scope && !scope.length) return [];
    let q = tunnelsWithNames(this.ctx.db).where('t.opened_by', '=', principal.id);
    if (scope) q = q.where('t.customer_id', 'in', scope);
    if (query.state) q = q.where('t.state', '=', query.state);
    const rows = await q.orderBy((eb) => eb.case().when('t.state', '=', 'closed').then(1).else(0).end()).orderBy('t.opened_at', 'desc').limit(query.limit).execute();
    return rows.map((r) => this.toView(r));
  }

  async listForDevice(principal: Principal, deviceId: string, query: { limit: number; state?: TunnelState | undefined }): Promise<TunnelView[]> {
    const device = await this.ctx.db.selectFrom('devices').select(['id', 'customer_id']).where('id', '=', deviceId).executeTakeFirst();
    if (!device || !inScope(principal, device.customer_id)) throw new TetherError('NOT_FOUND', `no device ${deviceId}`);
    let q = tunnelsWithNames(this.ctx.db).where('t.device_id', '=', deviceId);
    if (query.state) q = q.where('t.state', '=', query.state);
    return (await q.orderBy('t.opened_at', 'desc').limit(query.limit).execute()).map((r) => this.toView(r));
  }

  // --- session end (SessionParticipant) ---

  /** Marks the session's tunnels closed (SESSION_ENDED) inside the session's closing transaction; the legs are cut after the commit. */
  async stopForSession(trx: Trx, session: ServiceSessionRow, _cause: SessionEndCause, now: number): Promise<void> {
    await trx.updateTable('tunnels').set({ state: 'closed', end_cause: 'SESSION_ENDED', closed_at: now }).where('session_id', '=', session.id).where('state', '!=', 'closed').execute();
  }

  /** After the session's transaction committed: cut the legs of the tunnels it closed, record and audit them. */
  async afterSessionsChanged(sessionIds: readonly string[]): Promise<void> {
    if (!sessionIds.length) return;
    const rows = await this.ctx.db.selectFrom('tunnels').select('id').where('session_id', 'in', [...sessionIds]).where('state', '=', 'closed').execute();
    for (const { id } of rows) {
      if (this.relay.has(id)) await this.finalize(id, SYSTEM_ACTOR);
    }
  }

  // --- the relay's questions (RelayHooks) ---

  async admit(leg: TunnelLeg, tunnelId: string, request: IncomingMessage): Promise<void> {
    if (leg === 'console') await this.admitConsole(tunnelId, request);
    else await this.admitAgent(tunnelId, request);
  }

  attached(leg: TunnelLeg, tunnelId: string, path: TunnelPath): void {
    this.onAttached(leg, tunnelId, path).catch((err: unknown) => this.ctx.log.error({ err, tunnelId }, 'could not record a tunnel leg'));
  }

  agentLost(tunnelId: string, sessionEnded: boolean): void {
    this.closeTunnel(tunnelId, sessionEnded ? 'SESSION_ENDED' : 'AGENT_LOST', SYSTEM_ACTOR).catch((err: unknown) => this.ctx.log.error({ err, tunnelId }, 'could not close a tunnel whose device left'));
  }

  private async admitConsole(tunnelId: string, request: IncomingMessage): Promise<void> {
    const ip = request.socket.remoteAddress ?? null;
    let principal: Principal | undefined;
    let row: TunnelRow | undefined;
    try {
      principal = await this.auth.authenticate(request.headers.authorization);
      row = await this.ctx.db.selectFrom('tunnels').selectAll().where('id', '=', tunnelId).executeTakeFirst();
      if (!row || !inScope(principal, row.customer_id)) throw new TetherError('NOT_FOUND', `no tunnel ${tunnelId}`);
      const ticket = request.headers[TUNNEL_WIRE.ticketHeader];
      if (typeof ticket !== 'string' || !ticket) throw ticketRefused('no ticket');
      const tunnel = row;
      const user = principal;
      const reason = await this.ctx.db.transaction().execute((trx) => redeemTicketIn(trx, ticket, tunnel, user.id, Date.now()));
      if (reason) throw ticketRefused(reason);
      if (row.state === 'closed' || !this.relay.has(row.id)) throw new TetherError('TUNNEL_NOT_OPEN', 'the tunnel is closed');
      await this.sessions.requireControlledSession(principal, row.session_id, row.device_id, 'tunnel');
    } catch (err) {
      if (err instanceof TetherError) {
        const actor: Actor = principal ? userActor(principal, ip) : { actorType: 'anonymous', ip };
        await this.refused(actor, row?.device_id ?? null, { tunnelId, leg: 'console' }, err);
      }
      throw err;
    }
  }

  private async admitAgent(tunnelId: string, request: IncomingMessage): Promise<void> {
    const ip = request.socket.remoteAddress ?? null;
    let deviceId: string | null = null;
    try {
      const device = await authenticateDeviceConnection(this.ctx, { socket: request.socket as TLSSocket, secret: request.headers[TUNNEL_WIRE.deviceSecretHeader], ip, path: (request.url ?? '').split('?')[0] ?? '' });
      deviceId = device.id;
      const row = await this.ctx.db.selectFrom('tunnels').selectAll().where('id', '=', tunnelId).executeTakeFirst();
      if (!row) throw new TetherError('NOT_FOUND', `no tunnel ${tunnelId}`);
      if (row.device_id !== device.id) throw new TetherError('FORBIDDEN', 'this tunnel belongs to another device');
      if (row.state === 'closed' || !this.relay.has(row.id)) throw new TetherError('TUNNEL_NOT_OPEN', 'the tunnel is closed');
    } catch (err) {
      if (err instanceof TetherError) await this.refused({ actorType: 'device', actorId: deviceId, ip }, deviceId, { tunnelId, leg: 'agent' }, err);
      throw err;
    }
  }

  private async onAttached(leg: TunnelLeg, tunnelId: string, path: TunnelPath): Promise<void> {
    const row = await this.ctx.db.selectFrom('tunnels').select(['device_id', 'session_id', 'target_id']).where('id', '=', tunnelId).executeTakeFirst();
    if (row) {
      await this.ctx.audit.append({ ...SYSTEM_ACTOR, action: 'tunnel.link', targetType: 'device', targetId: row.device_id, outcome: 'ok', detail: { tunnelId, sessionId: row.session_id, targetId: row.target_id, leg, path } });
    }
    if (leg === 'agent') {
      const timer = this.setupTimers.get(tunnelId);
      if (timer) clearTimeout(timer);
      this.setupTimers.delete(tunnelId);
      await this.ctx.db.updateTable('tunnels').set({ state: 'open', agent_path: path }).where('id', '=', tunnelId).where('state', '!=', 'closed').execute();
    } else {
      await this.ctx.db.updateTable('tunnels').set({ console_path: path }).where('id', '=', tunnelId).where('state', '!=', 'closed').execute();
    }
    this.announce(await this.named(tunnelId));
  }

  // --- closing ---

  /** Closes a tunnel for `cause`: the row and its command in one transaction, then the legs, counters and audit. */
  private async closeTunnel(tunnelId: string, cause: TunnelEndCause, actor: Actor): Promise<void> {
    let change: StateChange | undefined;
    let deviceId: string | undefined;
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('tunnels').selectAll().where('id', '=', tunnelId).executeTakeFirst();
      if (!row || row.state === 'closed') return;
      await trx.updateTable('tunnels').set({ state: 'closed', end_cause: cause, closed_at: Date.now() }).where('id', '=', tunnelId).where('state', '!=', 'closed').execute();
      if (row.command_id) change = await this.commands.cancelIn(trx, row.command_id, row.customer_id, `tunnel closed: ${cause}`);
      deviceId = row.device_id;
    });
    if (change) await this.commands.announce([change]);
    if (deviceId) this.ctx.bus.publish('device.wake', { deviceId });
    if (this.relay.has(tunnelId)) await this.finalize(tunnelId, actor);
  }

  /** Cuts the legs of a closed tunnel, writes its final counters and audits its close. */
  private async finalize(tunnelId: string, actor: Actor): Promise<void> {
    const timer = this.setupTimers.get(tunnelId);
    if (timer) clearTimeout(timer);
    this.setupTimers.delete(tunnelId);
    const figures = this.relay.teardown(tunnelId);
    this.flushed.delete(tunnelId);
    if (figures) {
      await this.ctx.db.updateTable('tunnels').set({ bytes_to_device: figures.bytesToDevice, bytes_from_device: figures.bytesFromDevice, total_connections: figures.totalConnections }).where('id', '=', tunnelId).execute();
    }
    const row = await this.named(tunnelId);
    await this.ctx.audit.append({
      ...actor,
      action: 'tunnel.close',
      targetType: 'device',
      targetId: row.device_id,
      outcome: 'ok',
      detail: {
        tunnelId,
        sessionId: row.session_id,
        user: row.username,
        targetId: row.target_id,
        targetPort: Number(row.target_port),
        consolePath: row.console_path,
        agentPath: row.agent_path,
        bytesToDevice: Number(row.bytes_to_device),
        bytesFromDevice: Number(row.bytes_from_device),
        connections: Number(row.total_connections),
        durationMs: Number(row.closed_at ?? Date.now()) - Number(row.opened_at),
        endCause: row.end_cause,
      },
    });
    this.announce(row);
  }

  /** The device's command ended while its tunnel was not closed: the device's side is gone. */
  private async onCommandEnded(commandId: string): Promise<void> {
    const row = await this.ctx.db.selectFrom('tunnels').select(['id', 'state']).where('command_id', '=', commandId).executeTakeFirst();
    if (!row || row.state === 'closed') return;
    const command = await this.ctx.db.selectFrom('commands').select('error').where('id', '=', commandId).executeTakeFirst();
    const code = command?.error ? (JSON.parse(command.error) as { code?: string }).code : undefined;
    const cause: TunnelEndCause = code === 'TUNNEL_UNREACHABLE' || code === 'TUNNEL_TARGET_NOT_ALLOWED' ? 'TARGET_UNREACHABLE' : 'AGENT_LOST';
    await this.closeTunnel(row.id, cause, SYSTEM_ACTOR);
  }

  private async flushCounters(): Promise<void> {
    for (const id of this.relay.ids()) {
      const figures = this.relay.figures(id);
      if (!figures) continue;
      const key = `${figures.bytesToDevice}/${figures.bytesFromDevice}/${figures.activeConnections}/${figures.totalConnections}`;
      if (this.flushed.get(id) === key) continue;
      this.flushed.set(id, key);
      await this.ctx.db.updateTable('tunnels').set({ bytes_to_device: figures.bytesToDevice, bytes_from_device: figures.bytesFromDevice, total_connections: figures.totalConnections }).where('id', '=', id).where('state', '!=', 'closed').execute();
      const row = await tunnelsWithNames(this.ctx.db).where('t.id', '=', id).executeTakeFirst();
      if (row && row.state !== 'closed') this.announce(row);
    }
  }

  // --- helpers ---

  /** Where a leg dials: the relay port (or, with `direct` off, a closed one) and the WebSocket on the API port. */
  private endpoint(leg: TunnelLeg, tunnelId: string, origin: ClientOrigin): RelayEndpoint {
    const ports = this.advertisedPorts;
    const port = leg === 'agent' ? ports.agentPort : ports.consolePort;
    const path = leg === 'agent' ? pathOf(AGENT_ROUTES, 'tunnels.link', { tunnelId: tunnelId }) : pathOf(API_ROUTES, 'tunnels.link', { tunnelId: tunnelId });
    return { host: origin.hostname, port, fallbackUrl: `wss://${origin.host}${path}` };
  }

  private async refused(actor: Actor, deviceId: string | null, detail: Record<string, unknown>, error: TetherError): Promise<void> {
    const reason = typeof error.details?.reason === 'string' ? error.details.reason : error.message;
    await this.ctx.audit.append({ ...actor, action: 'tunnel.refused', targetType: 'device', targetId: deviceId, outcome: 'denied', detail: { ...detail, code: error.code, reason } });
  }

  private async visible(principal: Principal, tunnelId: string): Promise<TunnelRow> {
    const row = await this.ctx.db.selectFrom('tunnels').selectAll().where('id', '=', tunnelId).executeTakeFirst();
    if (!row || !inScope(principal, row.customer_id)) throw new TetherError('NOT_FOUND', `no tunnel ${tunnelId}`);
    return row;
  }

  private async named(tunnelId: string): Promise<NamedTunnelRow> {
    return tunnelsWithNames(this.ctx.db).where('t.id', '=', tunnelId).executeTakeFirstOrThrow();
  }

  private async view(tunnelId: string): Promise<TunnelView> {
    return this.toView(await this.named(tunnelId));
  }

  private toView(row: NamedTunnelRow): TunnelView {
    return toTunnelView(row, row.state === 'closed' ? undefined : this.relay.figures(row.id));
  }

  private announce(row: NamedTunnelRow): TunnelView {
    const view = this.toView(row);
    publishLive(this.ctx.bus, row.customer_id, { type: 'tunnel', deviceId: row.device_id, tunnel: view });
    return view;
  }
}
