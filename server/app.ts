import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyWebsocket from '@fastify/websocket';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { pino, type Logger } from 'pino';
import { TetherError } from '#contract/errors';
import { AGENT_ROUTES, type AgentRoutes } from '#contract/http/agent-routes';
import { API_ROUTES, type ApiRoutes } from '#contract/http/api-routes';
import type { ServerConfig } from './config.ts';
import type { ServerContext } from './context.ts';
import { openSqliteStore } from './store/database.ts';
import { InProcessBus, type Bus } from './bus/bus.ts';
import { AuditLog } from './audit/audit-log.ts';
import { auditHandlers } from './audit/routes.ts';
import { loadOrCreatePki } from './pki/pki.ts';
import { AccessTokenIssuer } from './auth/tokens.ts';
import { AuthService } from './auth/auth-service.ts';
import { authHandlers } from './auth/routes.ts';
import { UsersService } from './users/users-service.ts';
import { userHandlers } from './users/routes.ts';
import { FleetService } from './devices/fleet-service.ts';
import { fleetHandlers } from './devices/routes.ts';
import { HistoryPruner } from './devices/history-pruner.ts';
import { sweepMissingDevices } from './devices/status-monitor.ts';
import { CommandService } from './commands/command-service.ts';
import { commandHandlers } from './commands/routes.ts';
import { AgentService } from './agent-api/agent-service.ts';
import { agentHandlers } from './agent-api/routes.ts';
import { PollRegistry } from './agent-api/poll-registry.ts';
import { deviceOf, requireDevice } from './agent-api/device-auth.ts';
import { liveHandlers } from './live/routes.ts';
import { GrantIssuer } from './sessions/grants.ts';
import { SessionGate } from './sessions/session-gate.ts';
import { SessionService } from './sessions/session-service.ts';
import { sessionHandlers } from './sessions/routes.ts';
import { TransferService } from './transfers/transfer-service.ts';
import { FileLister } from './transfers/file-list.ts';
import { transferHandlers } from './transfers/routes.ts';
import { agentTransferHandlers } from './transfers/agent-routes.ts';
import { EncryptedSpoolStore } from './transfers/spool-store.ts';
import { createTusServers, uploadHandler } from './transfers/uploads.ts';
import { TunnelService } from './tunnels/tunnel-service.ts';
import { agentTunnelHandlers, tunnelHandlers } from './tunnels/routes.ts';
import { installErrorHandling, clientIp } from './http/errors.ts';
import { principalOf, requireCapability } from './http/auth-hook.ts';
import { metaHandlers } from './http/meta-routes.ts';
import { type CallerChecks, type RouteHandlers, registerRoutes, requireTableRoutes } from './http/routes.ts';
import { startJob } from './jobs.ts';
import { TETHER_VERSION } from '#node-lib/version';

/** The domain services of a node, for tools (CLI, simulator, tests) that act without HTTP. */
export interface ServerServices {
  auth: AuthService;
  users: UsersService;
  fleet: FleetService;
  commands: CommandService;
  sessions: SessionService;
  transfers: TransferService;
  tunnels: TunnelService;
  polls: PollRegistry;
}

export type TetherFastify = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** A built (not yet listening) server node. */
export interface TetherServer {
  readonly app: TetherFastify;
  readonly ctx: ServerContext;
  readonly services: ServerServices;
  /** Set on the first start of a data dir only: show it once, it is stored nowhere. */
  readonly bootstrapAdmin: { username: string; password: string } | undefined;
  /** Starts listening and the background jobs; resolves to the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface BuildOptions {
  logger?: Logger;
  bus?: Bus;
}

/**
 * Builds a server node from its configuration: data dir, PKI, store, services and the
 * Fastify instance with every domain plugin. Nothing global: tests build as many as they
 * like, each on its own port and data dir.
 */
export async function buildServer(config: ServerConfig, options: BuildOptions = {}): Promise<TetherServer> {
  const log = options.logger ?? pino({ level: config.logLevel });
  const pki = await loadOrCreatePki(config.dataDir, config.hostnames);
  const { db } = await openSqliteStore(config.dataDir);
  const bus = options.bus ?? new InProcessBus();
  const tokens = await AccessTokenIssuer.loadOrCreate(config.dataDir, config.accessTokenTtlSeconds);
  const ctx: ServerContext = { config, db, bus, audit: new AuditLog(db), pki, tokens, log, version: TETHER_VERSION };

  const auth = new AuthService(ctx);
  const users = new UsersService(ctx);
  const fleet = new FleetService(ctx);
  const grants = await GrantIssuer.loadOrCreate(config.dataDir);
  // the session gate first, the session service last: it is handed every domain whose work lives in a session
  const sessionGate = new SessionGate(ctx, grants);
  const commands = new CommandService(ctx, fleet, sessionGate);
  const transfers = new TransferService(ctx, fleet, commands, sessionGate);
  const tunnels = new TunnelService(ctx, auth, commands, sessionGate);
  const sessions = new SessionService(ctx, fleet, sessionGate, { commands, transfers, tunnels });
  const tus = createTusServers(new EncryptedSpoolStore(transfers.spool, transfers, config.transfers.streamThrough ? transfers.handoff : undefined), log);
  const polls = new PollRegistry(bus);
  const history = new HistoryPruner(db, config.historyPerDataItem);
  const agent = new AgentService(ctx, commands, sessions, grants, polls, history);
  const services: ServerServices = { auth, users, fleet, commands, sessions, transfers, tunnels, polls };
  const bootstrapAdmin = await users.ensureBootstrapAdmin();

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
    bodyLimit: config.bodyLimitBytes,
    https: {
      key: pki.server.keyPem,
      cert: pki.server.certPem,
      ca: [pki.deviceCa.certPem],
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    },
    forceCloseConnections: true,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);

  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new TetherError('RATE_LIMITED', `too many requests; try again in ${Math.ceil(context.ttl / 1000)} s`, { retryAfterSeconds: Math.ceil(context.ttl / 1000) }),
  });
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });

  const checks: CallerChecks = { user: (capability) => requireCapability(auth, capability), device: requireDevice(ctx) };
  requireTableRoutes(app, [API_ROUTES.prefix, AGENT_ROUTES.prefix]);
  const apiHandlers = {
    ...metaHandlers(ctx.version, () => tunnels.advertisedPorts),
    ...liveHandlers(auth, bus),
    ...authHandlers(ctx, auth),
    ...userHandlers(users),
    ...fleetHandlers(fleet),
    ...commandHandlers(commands),
    ...sessionHandlers(sessions, fleet),
    ...transferHandlers(transfers, new FileLister(ctx, fleet, commands), uploadHandler(tus.console, tus.store, async (request, transferId) => {
      await transfers.authorizeUpload({ kind: 'console', principal: principalOf(request), ip: clientIp(request) }, transferId);
    })),
    ...tunnelHandlers(tunnels),
    ...auditHandlers(ctx.audit),
  } satisfies RouteHandlers<ApiRoutes>;
  const agentApiHandlers = {
    ...agentHandlers(ctx, agent),
    ...agentTransferHandlers(transfers, uploadHandler(tus.agent, tus.store, async (request, transferId) => {
      await transfers.authorizeUpload({ kind: 'agent', device: deviceOf(request), ip: clientIp(request) }, transferId);
    })),
    ...agentTunnelHandlers(tunnels),
  } satisfies RouteHandlers<AgentRoutes>;
  await registerRoutes(app, API_ROUTES, apiHandlers, checks);
  await registerRoutes(app, AGENT_ROUTES, agentApiHandlers, checks);

  const stopJobs: (() => void)[] = [];
  let closed = false;

  return {
    app,
    ctx,
    services,
    bootstrapAdmin,
    async listen() {
      // a deep accept queue: thousands of agents reconnect at once after a restart
      await app.listen({ host: config.host, port: config.port, backlog: 4096 });
      await tunnels.start(config.host);
      stopJobs.push(
        startJob('status-sweep', config.statusSweepMs, log, () => sweepMissingDevices(ctx)),
        startJob('command-expiry', 1000, log, () => commands.expireOverdue()),
        startJob('session-sweep', config.sessionSweepMs, log, () => sessions.sweep()),
        startJob('history-prune', 10_000, log, () => history.run()),
        startJob('transfer-sweep', config.transfers.sweepMs, log, () => transfers.sweep()),
      );
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const stop of stopJobs) stop();
      polls.close();
      // before the store closes: each open tunnel's end is recorded (SERVER_STOPPED)
      await tunnels.stop();
      transfers.close();
      await app.close();
      await bus.close();
      await db.destroy();
    },
  };
}
