import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TetherError } from '#contract/errors';
import {
  CreateTransferRequestSchema,
  ListFilesRequestSchema,
  ListFilesResponseSchema,
  TransferAckSchema,
  TransferDetailSchema,
  TransferListQuerySchema,
  TransferListResponseSchema,
  TransferViewSchema,
} from '#contract/api/transfers';
import { TRANSFER_HEADERS } from '#contract/protocol/transfers';
import type { AuthService } from '../auth/auth-service.ts';
import { principalOf, requireCapability } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import { errorResponses } from '../http/types.ts';
import type { FileLister } from './file-list.ts';
import type { ChunkContent } from './content.ts';
import type { TransferService } from './transfer-service.ts';

const IdParams = z.object({ id: z.string().min(1).max(64) });

/** File transfers and the remote file browser on the console API. */
export function transferRoutes(auth: AuthService, transfers: TransferService, files: FileLister): FastifyPluginAsyncZod {
  return async (app) => {
    const viewer = requireCapability(auth, 'view');

    app.post('/devices/:id/transfers', {
      schema: {
        tags: ['transfers'],
        summary: 'Start a file transfer in your service session (to-device: with its manifest; from-device: by path)',
        params: IdParams,
        body: CreateTransferRequestSchema,
        response: { 201: TransferDetailSchema, ...errorResponses(400, 401, 403, 404, 409, 413) },
      },
      preHandler: viewer,
      // a refused body is audited like any other refusal, so validation reaches the handler
      attachValidation: true,
    }, async (request, reply) => {
      const principal = principalOf(request);
      if (request.validationError) {
        const issues = request.validationError.message;
        return transfers.access.refuseMalformed(principal, request.params.id, request.body, new TetherError('VALIDATION_FAILED', `invalid transfer request — ${issues}`), clientIp(request));
      }
      return reply.status(201).send(await transfers.create(principal, request.params.id, request.body, clientIp(request)));
    });

    app.get('/devices/:id/transfers', {
      schema: { tags: ['transfers'], summary: "A device's transfers, newest first", params: IdParams, querystring: TransferListQuerySchema, response: { 200: TransferListResponseSchema, ...errorResponses(400, 401, 404) } },
      preHandler: viewer,
    }, async (request) => ({ items: await transfers.listForDevice(principalOf(request), request.params.id, request.query) }));

    app.get('/transfers', {
      schema: { tags: ['transfers'], summary: 'Your transfers, newest first (the transfers panel)', querystring: TransferListQuerySchema, response: { 200: TransferListResponseSchema, ...errorResponses(400, 401) } },
      preHandler: viewer,
    }, async (request) => ({ items: await transfers.listMine(principalOf(request), request.query) }));

    app.get('/transfers/:id', {
      schema: { tags: ['transfers'], summary: 'A transfer with its manifest once declared', params: IdParams, response: { 200: TransferDetailSchema, ...errorResponses(401, 404) } },
      preHandler: viewer,
    }, async (request) => transfers.get(principalOf(request), request.params.id));

    const actions = { pause: 'Pause (the device keeps its progress)', resume: 'Resume a paused transfer', cancel: 'Cancel: partial files and held chunks are deleted', retry: 'Retry a failed transfer from the last verified chunk' } as const;
    for (const [action, summary] of Object.entries(actions) as [keyof typeof actions, string][]) {
      app.post(`/transfers/:id/${action}`, {
        schema: { tags: ['transfers'], summary, params: IdParams, response: { 200: TransferViewSchema, ...errorResponses(401, 403, 404, 409, 410) } },
        preHandler: viewer,
      }, async (request) => transfers[action](principalOf(request), request.params.id, clientIp(request)));
    }

    app.get('/transfers/:id/content', {
      schema: {
        tags: ['transfers'],
        summary: 'From-device bytes: one chunk per request (Range: bytes=start-end), 206 with tether-chunk-index and tether-chunk-sha256; waits briefly for a chunk on its way, then 409 CHUNK_NOT_READY',
        params: IdParams,
        response: errorResponses(400, 401, 403, 404, 409, 422),
      },
      preHandler: viewer,
    }, async (request, reply) => {
      const chunk = await transfers.content({ kind: 'console', principal: principalOf(request), ip: clientIp(request) }, request.params.id, request.headers.range, abortOnClose(reply));
      return sendChunk(reply, chunk);
    });

    app.post('/transfers/:id/ack', {
      schema: { tags: ['transfers'], summary: 'From-device: chunks verified (held copies are deleted), then the whole file; past what the server has, it waits briefly for the sender, then 409 CHUNK_NOT_READY', params: IdParams, body: TransferAckSchema, response: { 200: TransferViewSchema, ...errorResponses(400, 401, 403, 404, 409, 422) } },
      preHandler: viewer,
    }, async (request, reply) => transfers.ack({ kind: 'console', principal: principalOf(request), ip: clientIp(request) }, request.params.id, request.body, abortOnClose(reply)));

    app.post('/devices/:id/files/list', {
      schema: {
        tags: ['transfers'],
        summary: 'List a folder on the device ("/" lists its roots) through a list-files command in your session, awaited up to 20 s',
        params: IdParams,
        body: ListFilesRequestSchema,
        response: { 200: ListFilesResponseSchema, ...errorResponses(400, 401, 403, 404, 409, 410) },
      },
      preHandler: viewer,
    }, async (request) => files.list(principalOf(request), request.params.id, request.body, clientIp(request)));
  };
}

/** An AbortSignal that fires when the client goes away before its answer was written. */
export function abortOnClose(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** A chunk as a 206 answer: its range, index and declared hash in the headers. */
export function sendChunk(reply: FastifyReply, chunk: ChunkContent): FastifyReply {
  return reply
    .status(206)
    .headers({
      'content-type': 'application/octet-stream',
      'content-range': `bytes ${chunk.start}-${chunk.end - 1}/${chunk.size}`,
      'content-length': chunk.end - chunk.start,
      'cache-control': 'no-store',
      [TRANSFER_HEADERS.chunkIndex]: chunk.index,
      [TRANSFER_HEADERS.chunkSha256]: chunk.sha256,
    })
    .send(chunk.body);
}
