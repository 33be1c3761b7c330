import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { createWebSocketStream } from 'ws';
import { z } from 'zod';
import { TetherError } from '#contract/errors';
import { OpenTunnelRequestSchema, OpenTunnelResponseSchema, TunnelListQuerySchema, TunnelTicketSchema, TunnelViewSchema } from '#contract/api/tunnels';
import { TUNNEL_WIRE } from '#contract/tunnels';
import type { AuthService } from '../auth/auth-service.ts';
import { principalOf, requireCapability } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import { errorResponses } from '../http/types.ts';
import type { TunnelLeg } from './relay.ts';
import type { ClientOrigin, TunnelService } from './tunnel-service.ts';

const IdParams = z.object({ id: z.string().min(1).max(64) });
const TunnelListResponseSchema = z.object({ items: z.array(TunnelViewSchema) });

const originOf = (request: FastifyRequest): ClientOrigin => ({ hostname: request.hostname, host: request.host });

/** Tunnels on the console API (contract/api/tunnels.ts) and the console leg's 443 fallback. */
export function tunnelRoutes(auth: AuthService, tunnels: TunnelService): FastifyPluginAsyncZod {
  return async (app) => {
    const viewer = requireCapability(auth, 'view');

    app.post('/sessions/:id/tunnels', {
      schema: {
        tags: ['tunnels'],
        summary: 'Open a tunnel in your session (scope tunnel) to a target the device model allows; answers a one-time ticket for the console leg',
        params: IdParams,
        body: OpenTunnelRequestSchema,
        response: { 201: OpenTunnelResponseSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
      preHandler: viewer,
    }, async (request, reply) => reply.status(201).send(await tunnels.open(principalOf(request), request.params.id, request.body.targetId, originOf(request), clientIp(request))));

    app.get('/tunnels', {
      schema: { tags: ['tunnels'], summary: 'Your tunnels: open ones first, then the most recent', querystring: TunnelListQuerySchema, response: { 200: TunnelListResponseSchema, ...errorResponses(400, 401) } },
      preHandler: viewer,
    }, async (request) => ({ items: await tunnels.listMine(principalOf(request), request.query) }));

    app.get('/devices/:id/tunnels', {
      schema: { tags: ['tunnels'], summary: "A device's tunnels, newest first", params: IdParams, querystring: TunnelListQuerySchema, response: { 200: TunnelListResponseSchema, ...errorResponses(400, 401, 404) } },
      preHandler: viewer,
    }, async (request) => ({ items: await tunnels.listForDevice(principalOf(request), request.params.id, request.query) }));

    app.get('/tunnels/:id', {
      schema: { tags: ['tunnels'], summary: 'A tunnel with its paths and counters', params: IdParams, response: { 200: TunnelViewSchema, ...errorResponses(401, 404) } },
      preHandler: viewer,
    }, async (request) => tunnels.get(principalOf(request), request.params.id));

    app.post('/tunnels/:id/tickets', {
      schema: { tags: ['tunnels'], summary: 'A fresh one-time ticket for the console leg (to reconnect)', params: IdParams, response: { 201: TunnelTicketSchema, ...errorResponses(401, 403, 404, 409) } },
      preHandler: viewer,
    }, async (request, reply) => reply.status(201).send(await tunnels.ticket(principalOf(request), request.params.id, originOf(request), clientIp(request))));

    app.post('/tunnels/:id/close', {
      schema: { tags: ['tunnels'], summary: 'Close a tunnel: both legs are cut at once', params: IdParams, response: { 200: TunnelViewSchema, ...errorResponses(401, 403, 404, 409) } },
      preHandler: viewer,
    }, async (request) => tunnels.close(principalOf(request), request.params.id, clientIp(request)));

    fallbackLinkRoute(app, 'console', tunnels);
  };
}

/** The agent leg's 443 fallback, beside the agent protocol. */
export function agentTunnelRoutes(tunnels: TunnelService): FastifyPluginAsyncZod {
  return async (app) => {
    fallbackLinkRoute(app, 'agent', tunnels);
  };
}

/**
 * `GET …/tunnels/:id/link` as a WebSocket (subprotocol tether-tunnel.v1): the leg is
 * admitted before the handshake — a refusal is a normal error answer — and the socket then
 * carries the same bytes as the relay port's upgraded connection.
 */
function fallbackLinkRoute(app: Parameters<FastifyPluginAsyncZod>[0], leg: TunnelLeg, tunnels: TunnelService): void {
  app.get('/tunnels/:id/link', {
    websocket: true,
    schema: { hide: true, params: IdParams },
    preHandler: async (request) => {
      const offered = String(request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
      if (!offered.includes(TUNNEL_WIRE.wsProtocol)) throw new TetherError('VALIDATION_FAILED', `a tunnel link is a WebSocket with subprotocol ${TUNNEL_WIRE.wsProtocol}`);
      await tunnels.admit(leg, request.params.id, request.raw);
    },
  }, (socket: WebSocket, request) => {
    tunnels.relay.attachFallback(leg, request.params.id, createWebSocketStream(socket));
  });
}
