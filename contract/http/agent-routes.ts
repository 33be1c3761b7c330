import { z } from 'zod';
import { TransferAckSchema } from '../api/transfers.ts';
import { EnrollRequestSchema, EnrollResponseSchema, GoodbyeRequestSchema } from '../protocol/enroll.ts';
import { PollRequestSchema, PollResponseSchema } from '../protocol/poll.ts';
import { AgentTransferSchema } from '../protocol/transfers.ts';
import { TransferManifestSchema } from '../transfers.ts';
import { TUNNEL_WIRE } from '../tunnels.ts';
import { ANYONE, DEVICE, type RouteTable, TUNNEL_LEG, contentRoute, jsonRoute, socketRoute, uploadRoute } from './route.ts';

const TransferParams = z.object({ transferId: z.string().min(1).max(64) });
const TunnelParams = z.object({ tunnelId: z.string().min(1).max(64) });

/**
 * `/agent/v1`: what device agents call. Only enrollment works without a device
 * certificate; every other route needs the device's certificate and secret.
 */
export const AGENT_ROUTES = {
  prefix: '/agent/v1',
  routes: {
    enroll: jsonRoute({
      method: 'POST', path: '/enroll', tags: ['agent'], summary: 'Exchange a one-time enrollment code and a CSR for a device certificate and secret',
      caller: ANYONE, body: EnrollRequestSchema, status: 200, response: EnrollResponseSchema, errors: [400, 401, 429],
    }),
    poll: jsonRoute({
      method: 'POST', path: '/poll', tags: ['agent'], summary: 'Long-poll: report telemetry and command progress, wait for work',
      caller: DEVICE, body: PollRequestSchema, status: 200, response: PollResponseSchema, errors: [400, 401, 413],
    }),
    goodbye: jsonRoute({
      method: 'POST', path: '/goodbye', tags: ['agent'], summary: 'Orderly shutdown: the device goes offline (not missing)',
      caller: DEVICE, body: GoodbyeRequestSchema, status: 204, response: z.null(), errors: [400, 401],
    }),
    'transfers.get': jsonRoute({
      method: 'GET', path: '/transfers/:transferId', tags: ['agent'], summary: 'A transfer of this device: direction, path, state, manifest, progress',
      caller: DEVICE, params: TransferParams, status: 200, response: AgentTransferSchema, errors: [401, 404],
    }),
    'transfers.manifest': jsonRoute({
      method: 'POST', path: '/transfers/:transferId/manifest', tags: ['agent'], summary: 'From-device: declare the file (size, SHA-256, per-chunk SHA-256) before uploading it',
      caller: DEVICE, params: TransferParams, body: TransferManifestSchema, status: 200, response: AgentTransferSchema, errors: [400, 401, 404, 409, 413],
    }),
    'transfers.content': contentRoute({
      path: '/transfers/:transferId/content', tags: ['agent'],
      summary: 'To-device bytes: one chunk per request (Range), 206 with tether-chunk-index and tether-chunk-sha256; 409 CHUNK_NOT_READY after a brief wait',
      caller: DEVICE, params: TransferParams, errors: [400, 401, 403, 404, 409, 422],
    }),
    'transfers.ack': jsonRoute({
      method: 'POST', path: '/transfers/:transferId/ack', tags: ['agent'], summary: 'To-device: chunks verified and durably written, then the whole file under its final name; past what the server has, it waits briefly for the sender, then 409 CHUNK_NOT_READY',
      caller: DEVICE, params: TransferParams, body: TransferAckSchema, status: 200, response: AgentTransferSchema, errors: [400, 401, 403, 404, 409, 422],
    }),
    'transfers.upload': uploadRoute({
      path: '/uploads/:transferId', tags: ['agent'],
      summary: 'tus 1.0.0 upload of a transfer (HEAD: offset; PATCH: the next chunk, Content-Type application/offset+octet-stream)',
      caller: DEVICE, params: TransferParams, errors: [401, 403, 404, 409, 410, 422],
    }),
    'tunnels.link': socketRoute({
      path: '/tunnels/:tunnelId/link', tags: ['agent'],
      summary: "The agent leg over 443 when the relay port is blocked: a WebSocket carrying the relay port's bytes (device certificate and secret)",
      caller: TUNNEL_LEG, params: TunnelParams, subprotocol: TUNNEL_WIRE.wsProtocol, errors: [400, 401, 403, 404, 409],
    }),
  },
} as const satisfies RouteTable;
export type AgentRoutes = typeof AGENT_ROUTES.routes;
export type AgentRouteName = keyof AgentRoutes;
