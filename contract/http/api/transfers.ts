import {
  CreateTransferRequestSchema,
  ListFilesRequestSchema,
  ListFilesResponseSchema,
  TransferAckSchema,
  TransferDetailSchema,
  TransferListQuerySchema,
  TransferListResponseSchema,
  TransferViewSchema,
} from '../../api/transfers.ts';
import { contentRoute, jsonRoute, uploadRoute, userWith } from '../route.ts';
import { DeviceParams, TransferParams } from './params.ts';

/** A transfer action: one console button, one POST answering the transfer's view. */
const transferAction = <const P extends string>(action: P, summary: string) =>
  jsonRoute({
    method: 'POST', path: `/transfers/:transferId/${action}`, tags: ['transfers'], summary,
    caller: userWith('view'), params: TransferParams, status: 200, response: TransferViewSchema, errors: [401, 403, 404, 409, 410],
  });

/** File transfers and the remote file browser on the console API. */
export const TRANSFER_ROUTES = {
  'transfers.create': jsonRoute({
    method: 'POST', path: '/devices/:deviceId/transfers', tags: ['transfers'], summary: 'Start a file transfer in your service session (to-device: with its manifest; from-device: by path)',
    caller: userWith('view'), params: DeviceParams, body: CreateTransferRequestSchema, status: 201, response: TransferDetailSchema, errors: [400, 401, 403, 404, 409, 413],
  }),
  'transfers.listForDevice': jsonRoute({
    method: 'GET', path: '/devices/:deviceId/transfers', tags: ['transfers'], summary: "A device's transfers, newest first",
    caller: userWith('view'), params: DeviceParams, query: TransferListQuerySchema, status: 200, response: TransferListResponseSchema, errors: [400, 401, 404],
  }),
  'transfers.listMine': jsonRoute({
    method: 'GET', path: '/transfers', tags: ['transfers'], summary: 'Your transfers, newest first (the transfers panel)',
    caller: userWith('view'), query: TransferListQuerySchema, status: 200, response: TransferListResponseSchema, errors: [400, 401],
  }),
  'transfers.get': jsonRoute({
    method: 'GET', path: '/transfers/:transferId', tags: ['transfers'], summary: 'A transfer with its manifest once declared',
    caller: userWith('view'), params: TransferParams, status: 200, response: TransferDetailSchema, errors: [401, 404],
  }),
  'transfers.pause': transferAction('pause', 'Pause (the device keeps its progress)'),
  'transfers.resume': transferAction('resume', 'Resume a paused transfer'),
  'transfers.cancel': transferAction('cancel', 'Cancel: partial files and held chunks are deleted'),
  'transfers.retry': transferAction('retry', 'Retry a failed transfer from the last verified chunk'),
  'transfers.content': contentRoute({
    path: '/transfers/:transferId/content', tags: ['transfers'],
    summary: 'From-device bytes: one chunk per request (Range: bytes=start-end), 206 with tether-chunk-index and tether-chunk-sha256; waits briefly for a chunk on its way, then 409 CHUNK_NOT_READY',
    caller: userWith('view'), params: TransferParams, errors: [400, 401, 403, 404, 409, 422],
  }),
  'transfers.ack': jsonRoute({
    method: 'POST', path: '/transfers/:transferId/ack', tags: ['transfers'], summary: 'From-device: chunks verified (held copies are deleted), then the whole file; past what the server has, it waits briefly for the sender, then 409 CHUNK_NOT_READY',
    caller: userWith('view'), params: TransferParams, body: TransferAckSchema, status: 200, response: TransferViewSchema, errors: [400, 401, 403, 404, 409, 422],
  }),
  'transfers.upload': uploadRoute({
    path: '/uploads/:transferId', tags: ['transfers'],
    summary: 'tus 1.0.0 upload of a transfer (HEAD: offset; PATCH: the next chunk, Content-Type application/offset+octet-stream)',
    caller: userWith('view'), params: TransferParams, errors: [401, 403, 404, 409, 410, 422],
  }),
  'files.list': jsonRoute({
    method: 'POST', path: '/devices/:deviceId/files/list', tags: ['transfers'], summary: 'List a folder on the device ("/" lists its roots) through a list-files command in your session, awaited up to 20 s',
    caller: userWith('view'), params: DeviceParams, body: ListFilesRequestSchema, status: 200, response: ListFilesResponseSchema, errors: [400, 401, 403, 404, 409, 410],
  }),
} as const;
