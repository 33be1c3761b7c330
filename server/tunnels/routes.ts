import type { FastifyRequest } from 'fastify';
import { createWebSocketStream } from 'ws';
import type { AgentRoutes } from '#contract/http/agent-routes';
import type { TUNNEL_ROUTES } from '#contract/http/api/tunnels';
import type { ApiRoutes } from '#contract/http/api-routes';
import { principalOf } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import type { HandlersFor, SocketHandler } from '../http/routes.ts';
import type { TunnelLeg } from './relay.ts';
import type { ClientOrigin, TunnelService } from './tunnel-service.ts';

const originOf = (request: FastifyRequest): ClientOrigin => ({ hostname: request.hostname, host: request.host });

/** Tunnels on the console API, and the console leg's 443 fallback. */
export function tunnelHandlers(tunnels: TunnelService): HandlersFor<ApiRoutes, keyof typeof TUNNEL_ROUTES> {
  return {
    'tunnels.open': async (request) => tunnels.open(principalOf(request), request.params.sessionId, request.body.targetId, originOf(request), clientIp(request)),
    'tunnels.listMine': async (request) => ({ items: await tunnels.listMine(principalOf(request), request.query) }),
    'tunnels.listForDevice': async (request) => ({ items: await tunnels.listForDevice(principalOf(request), request.params.deviceId, request.query) }),
    'tunnels.get': async (request) => tunnels.get(principalOf(request), request.params.tunnelId),
    'tunnels.ticket': async (request) => tunnels.ticket(principalOf(request), request.params.tunnelId, originOf(request), clientIp(request)),
    'tunnels.close': async (request) => tunnels.close(principalOf(request), request.params.tunnelId, clientIp(request)),
    'tunnels.link': fallbackLink('console', tunnels),
  };
}

/** The agent leg's 443 fallback, beside the agent protocol. */
export function agentTunnelHandlers(tunnels: TunnelService): HandlersFor<AgentRoutes, 'tunnels.link'> {
  return { 'tunnels.link': fallbackLink('agent', tunnels) };
}

/**
 * `GET …/tunnels/:tunnelId/link` as a WebSocket: the leg is admitted before the handshake
 * — a refusal is a normal error answer — and the socket then carries the same bytes as
 * the relay port's upgraded connection.
 */
function fallbackLink(leg: TunnelLeg, tunnels: TunnelService): SocketHandler<ApiRoutes['tunnels.link']> {
  return {
    admit: (request) => tunnels.admit(leg, request.params.tunnelId, request.raw),
    connected: (socket, request) => tunnels.relay.attachFallback(leg, request.params.tunnelId, createWebSocketStream(socket)),
  };
}
