import { OpenTunnelRequestSchema, OpenTunnelResponseSchema, TunnelListQuerySchema, TunnelListResponseSchema, TunnelTicketSchema, TunnelViewSchema } from '../../api/tunnels.ts';
import { TUNNEL_WIRE } from '../../tunnels.ts';
import { TUNNEL_LEG, jsonRoute, socketRoute, userWith } from '../route.ts';
import { DeviceParams, SessionParams, TunnelParams } from './params.ts';

/** Tunnels on the console API, and the console leg's 443 fallback. */
export const TUNNEL_ROUTES = {
  'tunnels.open': jsonRoute({
    method: 'POST', path: '/sessions/:sessionId/tunnels', tags: ['tunnels'], summary: 'Open a tunnel in your session (scope tunnel) to a target the device model allows; answers a one-time ticket for the console leg',
    caller: userWith('view'), params: SessionParams, body: OpenTunnelRequestSchema, status: 201, response: OpenTunnelResponseSchema, errors: [400, 401, 403, 404, 409],
  }),
  'tunnels.listMine': jsonRoute({
    method: 'GET', path: '/tunnels', tags: ['tunnels'], summary: 'Your tunnels: open ones first, then the most recent',
    caller: userWith('view'), query: TunnelListQuerySchema, status: 200, response: TunnelListResponseSchema, errors: [400, 401],
  }),
  'tunnels.listForDevice': jsonRoute({
    method: 'GET', path: '/devices/:deviceId/tunnels', tags: ['tunnels'], summary: "A device's tunnels, newest first",
    caller: userWith('view'), params: DeviceParams, query: TunnelListQuerySchema, status: 200, response: TunnelListResponseSchema, errors: [400, 401, 404],
  }),
  'tunnels.get': jsonRoute({
    method: 'GET', path: '/tunnels/:tunnelId', tags: ['tunnels'], summary: 'A tunnel with its paths and counters',
    caller: userWith('view'), params: TunnelParams, status: 200, response: TunnelViewSchema, errors: [401, 404],
  }),
  'tunnels.ticket': jsonRoute({
    method: 'POST', path: '/tunnels/:tunnelId/tickets', tags: ['tunnels'], summary: 'A fresh one-time ticket for the console leg (to reconnect)',
    caller: userWith('view'), params: TunnelParams, status: 201, response: TunnelTicketSchema, errors: [401, 403, 404, 409],
  }),
  'tunnels.close': jsonRoute({
    method: 'POST', path: '/tunnels/:tunnelId/close', tags: ['tunnels'], summary: 'Close a tunnel: both legs are cut at once',
    caller: userWith('view'), params: TunnelParams, status: 200, response: TunnelViewSchema, errors: [401, 403, 404, 409],
  }),
  'tunnels.link': socketRoute({
    path: '/tunnels/:tunnelId/link', tags: ['tunnels'],
    summary: "The console leg over 443 when the relay port is blocked: a WebSocket carrying the relay port's bytes (ticket header and access token)",
    caller: TUNNEL_LEG, params: TunnelParams, subprotocol: TUNNEL_WIRE.wsProtocol, errors: [400, 401, 403, 404, 409],
  }),
} as const;
