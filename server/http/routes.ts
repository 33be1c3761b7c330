import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions, preHandlerHookHandler } from 'fastify';
import type { WebSocket } from 'ws';
import type { z } from 'zod';
import type { Capability } from '#contract/api/auth';
import { ErrorBodySchema, TetherError } from '#contract/errors';
import type { ContentRoute, JsonRoute, RouteCaller, RouteSpec, RouteTable, SocketRoute, UploadRoute } from '#contract/http/route';

/** What a request of a route carries once Fastify checked it against the route's schemas. */
export type RouteRequestOf<R extends RouteSpec> = FastifyRequest<{
  Params: R['params'] extends z.ZodObject ? z.output<R['params']> : Record<string, never>;
  Querystring: R extends { query: z.ZodObject } ? z.output<R['query']> : Record<string, never>;
  Body: R extends { body: z.ZodType } ? z.output<R['body']> : undefined;
}>;

/** Fastify route settings a handler may add (rate limits; a body refusal the handler audits itself). */
export interface RouteExtras {
  config?: Record<string, unknown>;
  attachValidation?: boolean;
}

/** A JSON route's handler: the answer it returns is sent with the route's status and checked against its schema. */
export type JsonHandler<R extends JsonRoute> = (request: RouteRequestOf<R>, reply: FastifyReply) => Promise<z.input<R['response']>> | z.input<R['response']>;
/** A content route's handler: sends the bytes itself. */
export type ContentHandler<R extends ContentRoute> = (request: RouteRequestOf<R>, reply: FastifyReply) => Promise<FastifyReply>;
/** A tus resource's handler: authorises, then hands the raw request to tus. */
export type UploadHandler<R extends UploadRoute> = (request: RouteRequestOf<R>, reply: FastifyReply) => Promise<void>;
/** A WebSocket route: `admit` may refuse before the handshake (a normal error answer), `connected` takes the socket. */
export interface SocketHandler<R extends SocketRoute> {
  admit?: (request: RouteRequestOf<R>) => Promise<void>;
  connected: (socket: WebSocket, request: RouteRequestOf<R>) => void;
}

/** The handler a route of a given kind needs. */
export type HandlerOf<R extends RouteSpec> = R extends JsonRoute
  ? JsonHandler<R> | { handle: JsonHandler<R>; extras: RouteExtras }
  : R extends ContentRoute
    ? ContentHandler<R>
    : R extends UploadRoute
      ? UploadHandler<R>
      : R extends SocketRoute
        ? SocketHandler<R>
        : never;

/** One handler per route of a table: a route without one is a type error. */
export type RouteHandlers<R extends Record<string, RouteSpec>> = { [N in keyof R]: HandlerOf<R[N]> };

/** A part of a table's handlers, as one domain provides them. */
export type HandlersFor<R extends Record<string, RouteSpec>, N extends keyof R> = Pick<RouteHandlers<R>, N>;

/** How callers are checked before a handler runs (contract/http/route.ts `RouteCaller`). */
export interface CallerChecks {
  user(capability: Capability): preHandlerHookHandler;
  device: preHandlerHookHandler;
}

/** The table route a Fastify route was registered for, kept in its config. */
const ROUTE_NAME = 'tetherRoute';

function preHandlerFor(caller: RouteCaller, checks: CallerChecks): preHandlerHookHandler | undefined {
  switch (caller.kind) {
    case 'user':
      return checks.user(caller.capability);
    case 'device':
      return checks.device;
    case 'anyone':
    case 'tunnel-leg':
      return undefined;
  }
}

const errorAnswers = (route: RouteSpec) => Object.fromEntries(route.errors.map((status) => [status, ErrorBodySchema]));

/**
 * Registers every route of a table under its prefix, from the table alone: method, path,
 * schemas (params, query, body, answers), the caller check, and the success status. A
 * domain writes only handlers.
 */
export async function registerRoutes<R extends Record<string, RouteSpec>>(
  app: FastifyInstance,
  table: RouteTable<R>,
  handlers: RouteHandlers<R>,
  checks: CallerChecks,
): Promise<void> {
  await app.register(async (scope) => {
    for (const [name, route] of Object.entries(table.routes) as [string, RouteSpec][]) {
      const handler = handlers[name as keyof R] as unknown;
      const preHandler = preHandlerFor(route.caller, checks);
      const base = { url: route.path, config: { [ROUTE_NAME]: name }, ...(preHandler ? { preHandler } : {}) };
      switch (route.kind) {
        case 'json': {
          const { handle, extras } = typeof handler === 'function' ? { handle: handler as JsonHandler<JsonRoute>, extras: {} as RouteExtras } : (handler as { handle: JsonHandler<JsonRoute>; extras: RouteExtras });
          scope.route({
            ...base,
            method: route.method,
            config: { ...extras.config, [ROUTE_NAME]: name },
            ...(extras.attachValidation ? { attachValidation: true } : {}),
            schema: {
              ...(route.params ? { params: route.params } : {}),
              ...(route.query ? { querystring: route.query } : {}),
              ...(route.body ? { body: route.body } : {}),
              response: { [route.status]: route.response, ...errorAnswers(route) },
            },
            handler: async (request, reply) => {
              const answer = await handle(request as never, reply);
              if (reply.sent) return reply;
              return reply.status(route.status).send(route.status === 204 ? null : answer);
            },
          } as RouteOptions);
          break;
        }
        case 'content':
          scope.route({
            ...base,
            method: 'GET',
            schema: { ...(route.params ? { params: route.params } : {}), response: errorAnswers(route) },
            handler: (request, reply) => (handler as ContentHandler<ContentRoute>)(request as never, reply),
          } as RouteOptions);
          break;
        case 'tus':
          // tus bodies are not parsed here: tus streams them into the spool chunk by chunk
          await scope.register(async (upload) => {
            upload.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));
            upload.route({
              ...base,
              method: [...route.method],
              schema: { ...(route.params ? { params: route.params } : {}), response: errorAnswers(route) },
              handler: (request, reply) => (handler as UploadHandler<UploadRoute>)(request as never, reply),
            } as RouteOptions);
          });
          break;
        case 'websocket': {
          const socket = handler as SocketHandler<SocketRoute>;
          const subprotocol = route.subprotocol;
          scope.route({
            ...base,
            method: 'GET',
            websocket: true,
            schema: route.params ? { params: route.params } : {},
            preHandler: async (request: FastifyRequest, reply: FastifyReply) => {
              if (subprotocol) {
                const offered = String(request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
                if (!offered.includes(subprotocol)) throw new TetherError('VALIDATION_FAILED', `this is a WebSocket with subprotocol ${subprotocol}`);
              }
              if (preHandler) await (preHandler as (request: FastifyRequest, reply: FastifyReply) => Promise<void>).call(scope, request, reply);
              await socket.admit?.(request as never);
            },
            handler: (connection: WebSocket, request: FastifyRequest) => socket.connected(connection, request as never),
          } as unknown as RouteOptions);
          break;
        }
      }
    }
  }, { prefix: table.prefix });
}

/**
 * Refuses, while the server is being built, any route under a table's prefix that was not
 * registered from the table — so a route added by hand fails every test that builds a server.
 */
export function requireTableRoutes(app: FastifyInstance, prefixes: readonly string[]): void {
  app.addHook('onRoute', (route) => {
    const url = route.url ?? route.path;
    if (!prefixes.some((prefix) => url === prefix || url.startsWith(`${prefix}/`))) return;
    if (!(route.config as Record<string, unknown> | undefined)?.[ROUTE_NAME]) {
      throw new Error(`${String(route.method)} ${url} is not in the route table (contract/http): declare it there and register it with registerRoutes`);
    }
  });
}
