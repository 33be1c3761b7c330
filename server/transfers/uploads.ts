import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { MemoryLocker, Server as TusServer } from '@tus/server';
import type { Logger } from 'pino';
import { z } from 'zod';
import { TetherError } from '#contract/errors';
import { errorResponses } from '../http/types.ts';
import type { EncryptedSpoolStore } from './spool-store.ts';

const UploadParams = z.object({ transferId: z.string().min(1).max(64) });

/**
 * tus 1.0.0 servers over the transfer store, one per mount point (console and agent). They
 * share one locker, so an upload is written by one request at a time whichever door it
 * came through. Errors of ours travel as the usual `{ error: { code, message } }` body.
 */
export function createTusServers(store: EncryptedSpoolStore, log: Logger): { console: TusServer; agent: TusServer; store: EncryptedSpoolStore } {
  const locker = new MemoryLocker();
  const make = (path: string) =>
    new TusServer({
      path,
      datastore: store,
      locker,
      relativeLocation: true,
      disableTerminationForFinishedUploads: true,
      onResponseError: (_request, err) => {
        if (err instanceof TetherError) return { status_code: err.httpStatus, body: JSON.stringify(err.toBody()) };
        if (err instanceof Error) {
          log.error({ err }, 'upload failed');
          return { status_code: 500, body: JSON.stringify(new TetherError('INTERNAL', 'the server could not store that chunk; it has been logged').toBody()) };
        }
        return undefined; // a tus protocol answer (offset conflict, size exceeded …): keep it
      },
    });
  return { console: make('/api/v1/uploads'), agent: make('/agent/v1/uploads'), store };
}

/**
 * `HEAD|PATCH <prefix>/uploads/:transferId`: authorise first (the caller's own way), then
 * hand the untouched request to tus. The body is not parsed here; tus streams it into the
 * spool chunk by chunk.
 */
export function uploadRoutes(tus: TusServer, store: EncryptedSpoolStore, authorize: (request: FastifyRequest, transferId: string) => Promise<void>, tags: string[]): FastifyPluginAsyncZod {
  return async (app) => {
    app.addContentTypeParser('application/offset+octet-stream', (_request, _payload, done) => done(null));
    app.route({
      method: ['HEAD', 'PATCH'],
      url: '/uploads/:transferId',
      schema: {
        tags,
        summary: 'tus 1.0.0 upload of a transfer (HEAD: offset; PATCH: the next chunk, Content-Type application/offset+octet-stream)',
        params: UploadParams,
        response: errorResponses(401, 403, 404, 409, 410, 422),
      },
      handler: async (request, reply) => {
        await authorize(request, request.params.transferId);
        // the sender only sends again when it gave up on its previous request: free its lock now
        if (request.method === 'PATCH') store.supersede(request.params.transferId);
        reply.hijack();
        try {
          await tus.handle(request.raw, reply.raw);
        } catch (err) {
          request.log.warn({ err }, 'upload request ended abnormally');
          if (!reply.raw.headersSent) reply.raw.writeHead(500).end();
          else reply.raw.destroy();
        }
      },
    });
  };
}
