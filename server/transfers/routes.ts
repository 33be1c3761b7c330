import type { FastifyReply, FastifyRequest } from 'fastify';
import { TetherError } from '#contract/errors';
import type { TRANSFER_ROUTES } from '#contract/http/api/transfers';
import type { ApiRoutes } from '#contract/http/api-routes';
import { TRANSFER_HEADERS } from '#contract/protocol/transfers';
import { principalOf } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import type { HandlersFor, RouteRequestOf, UploadHandler } from '../http/routes.ts';
import type { FileLister } from './file-list.ts';
import type { ChunkContent } from './content.ts';
import type { TransferService } from './transfer-service.ts';

/** File transfers and the remote file browser on the console API; uploads go to tus after `authorizeUpload`. */
export function transferHandlers(transfers: TransferService, files: FileLister, upload: UploadHandler<ApiRoutes['transfers.upload']>): HandlersFor<ApiRoutes, keyof typeof TRANSFER_ROUTES> {
  const consoleParty = (request: FastifyRequest) => ({ kind: 'console' as const, principal: principalOf(request), ip: clientIp(request) });
  const action = (name: 'pause' | 'resume' | 'cancel' | 'retry') => async (request: RouteRequestOf<ApiRoutes['transfers.pause']>) => transfers[name](principalOf(request), request.params.transferId, clientIp(request));
  return {
    'transfers.create': {
      handle: async (request) => {
        const principal = principalOf(request);
        if (request.validationError) {
          const issues = request.validationError.message;
          return transfers.access.refuseMalformed(principal, request.params.deviceId, request.body, new TetherError('VALIDATION_FAILED', `invalid transfer request — ${issues}`), clientIp(request));
        }
        return transfers.create(principal, request.params.deviceId, request.body, clientIp(request));
      },
      // a refused body is audited like any other refusal, so validation reaches the handler
      extras: { attachValidation: true },
    },
    'transfers.listForDevice': async (request) => ({ items: await transfers.listForDevice(principalOf(request), request.params.deviceId, request.query) }),
    'transfers.listMine': async (request) => ({ items: await transfers.listMine(principalOf(request), request.query) }),
    'transfers.get': async (request) => transfers.get(principalOf(request), request.params.transferId),
    'transfers.pause': action('pause'),
    'transfers.resume': action('resume'),
    'transfers.cancel': action('cancel'),
    'transfers.retry': action('retry'),
    'transfers.content': async (request, reply) => sendChunk(reply, await transfers.content(consoleParty(request), request.params.transferId, request.headers.range, abortOnClose(reply))),
    'transfers.ack': async (request, reply) => transfers.ack(consoleParty(request), request.params.transferId, request.body, abortOnClose(reply)),
    'transfers.upload': upload,
    'files.list': async (request) => files.list(principalOf(request), request.params.deviceId, request.body, clientIp(request)),
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
