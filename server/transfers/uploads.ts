import type { FastifyRequest } from 'fastify';
import { MemoryLocker, Server as TusServer } from '@tus/server';
import type { Logger } from 'pino';
import { TetherError } from '#contract/errors';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { API_ROUTES, type ApiRoutes } from '#contract/http/api-routes';
import type { UploadHandler } from '../http/routes.ts';
import type { EncryptedSpoolStore } from './spool-store.ts';

/** Where a table's tus resources live (`/api/v1/uploads`): the upload route's path without its id. */
function uploadsCollection(table: { prefix: string; routes: { 'transfers.upload': { path: string } } }): string {
  return `${table.prefix}${table.routes['transfers.upload'].path.replace(/\/:transferId$/, '')}`;
}

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
  return { console: make(uploadsCollection(API_ROUTES)), agent: make(uploadsCollection(AGENT_ROUTES)), store };
}

/**
 * `HEAD|PATCH <prefix>/uploads/:transferId`: authorise first (the caller's own way), then
 * hand the untouched request to tus, which streams the body into the spool chunk by chunk.
 */
export function uploadHandler(tus: TusServer, store: EncryptedSpoolStore, authorize: (request: FastifyRequest, transferId: string) => Promise<void>): UploadHandler<ApiRoutes['transfers.upload']> {
  return async (request, reply) => {
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
  };
}
