import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TransferAckSchema } from '#contract/api/transfers';
import { AgentTransferSchema } from '#contract/protocol/transfers';
import { TransferManifestSchema } from '#contract/transfers';
import type { ServerContext } from '../context.ts';
import { authenticateDevice } from '../agent-api/device-auth.ts';
import { clientIp } from '../http/errors.ts';
import { errorResponses } from '../http/types.ts';
import { abortOnClose, sendChunk } from './routes.ts';
import type { TransferService } from './transfer-service.ts';

const IdParams = z.object({ id: z.string().min(1).max(64) });

/**
 * `/agent/v1/transfers/*`: the device side of a transfer, for the device's own agent
 * (device certificate and secret, as every agent route). Another device's transfer does
 * not exist here.
 */
export function agentTransferRoutes(ctx: ServerContext, transfers: TransferService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/agent/v1/transfers/:id', {
      schema: { tags: ['agent'], summary: 'A transfer of this device: direction, path, state, manifest, progress', params: IdParams, response: { 200: AgentTransferSchema, ...errorResponses(401, 404) } },
    }, async (request) => transfers.agentView(await authenticateDevice(ctx, request), request.params.id, clientIp(request)));

    app.post('/agent/v1/transfers/:id/manifest', {
      schema: {
        tags: ['agent'],
        summary: 'From-device: declare the file (size, SHA-256, per-chunk SHA-256) before uploading it',
        params: IdParams,
        body: TransferManifestSchema,
        response: { 200: AgentTransferSchema, ...errorResponses(400, 401, 404, 409, 413) },
      },
    }, async (request) => transfers.declareManifest(await authenticateDevice(ctx, request), request.params.id, request.body, clientIp(request)));

    app.get('/agent/v1/transfers/:id/content', {
      schema: {
        tags: ['agent'],
        summary: 'To-device bytes: one chunk per request (Range), 206 with tether-chunk-index and tether-chunk-sha256; 409 CHUNK_NOT_READY after a brief wait',
        params: IdParams,
        response: errorResponses(400, 401, 403, 404, 409, 422),
      },
    }, async (request, reply) => {
      const device = await authenticateDevice(ctx, request);
      return sendChunk(reply, await transfers.content({ kind: 'agent', device, ip: clientIp(request) }, request.params.id, request.headers.range, abortOnClose(reply)));
    });

    app.post('/agent/v1/transfers/:id/ack', {
      schema: { tags: ['agent'], summary: 'To-device: chunks verified and durably written, then the whole file under its final name; past what the server has, it waits briefly for the sender, then 409 CHUNK_NOT_READY', params: IdParams, body: TransferAckSchema, response: { 200: AgentTransferSchema, ...errorResponses(400, 401, 403, 404, 409, 422) } },
    }, async (request, reply) => {
      const device = await authenticateDevice(ctx, request);
      await transfers.ack({ kind: 'agent', device, ip: clientIp(request) }, request.params.id, request.body, abortOnClose(reply));
      return transfers.agentView(device, request.params.id, clientIp(request));
    });
  };
}
