import { z } from 'zod';
import { ErrorCodeSchema } from '../errors.ts';
import {
  DevicePathSchema,
  FileEntrySchema,
  Sha256HexSchema,
  TransferDirectionSchema,
  TransferManifestSchema,
  TransferStateSchema,
} from '../transfers.ts';
import { SessionUserSchema } from './sessions.ts';

/**
 * File transfers on the console API. A transfer belongs to a device and to the active
 * service session (with the `files` scope) it was started in; it ends with that session.
 *
 *   POST /api/v1/devices/:id/transfers        start one (to-device: with its manifest)
 *   GET  /api/v1/devices/:id/transfers        the device's transfers, newest first
 *   GET  /api/v1/transfers                    the caller's transfers (the transfers panel)
 *   GET  /api/v1/transfers/:id                one, with its manifest once known
 *   POST /api/v1/transfers/:id/{pause,resume,cancel,retry}
 *   tus  /api/v1/uploads/:transferId          to-device bytes, console → server (tus 1.0.0)
 *   GET  /api/v1/transfers/:id/content        from-device bytes, server → console (Range)
 *   POST /api/v1/transfers/:id/ack            the console verified chunks (and the file)
 *   POST /api/v1/devices/:id/files/list       the remote file browser (a `list-files` command, awaited)
 *
 * The agent's side is the same shape under /agent/v1 (docs/protocol.md).
 */

export const TransferErrorSchema = z.object({ code: ErrorCodeSchema, message: z.string() });

export const TransferViewSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  deviceSerial: z.string(),
  sessionId: z.string(),
  direction: TransferDirectionSchema,
  /** The file on the device: its source (from-device) or its destination (to-device). */
  devicePath: z.string(),
  /** The file's name at the console side. */
  fileName: z.string(),
  state: TransferStateSchema,
  /** Known once the sender declared its manifest. */
  size: z.number().int().nonnegative().nullable(),
  sha256: Sha256HexSchema.nullable(),
  chunkSize: z.number().int().positive(),
  totalChunks: z.number().int().nonnegative().nullable(),
  /** Bytes the server holds or passed on (the sender's progress). */
  uploadedBytes: z.number().int().nonnegative(),
  /** Bytes the receiver verified (the transfer's progress). */
  deliveredBytes: z.number().int().nonnegative(),
  createdBy: SessionUserSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().nullable(),
  /** Held chunks are purged at this time at the latest (TTL). */
  expiresAt: z.string(),
  attempts: z.number().int().nonnegative(),
  error: TransferErrorSchema.nullable(),
});
export type TransferView = z.infer<typeof TransferViewSchema>;

export const TransferDetailSchema = TransferViewSchema.extend({ manifest: TransferManifestSchema.nullable() });
export type TransferDetail = z.infer<typeof TransferDetailSchema>;

export const CreateTransferRequestSchema = z.discriminatedUnion('direction', [
  z
    .object({
      direction: z.literal('to-device'),
      sessionId: z.string().max(64),
      /** Where the file goes on the device (a full path inside an allowed root). */
      devicePath: DevicePathSchema,
      fileName: z.string().min(1).max(255),
      overwrite: z.boolean().default(false),
      manifest: TransferManifestSchema,
    })
    .strict(),
  z
    .object({
      direction: z.literal('from-device'),
      sessionId: z.string().max(64),
      devicePath: DevicePathSchema,
    })
    .strict(),
]);
export type CreateTransferRequest = z.input<typeof CreateTransferRequestSchema>;

export const TransferListQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(100),
    /** Only these states (comma-separated), e.g. `queued,running,paused`. */
    state: z.string().max(100).optional(),
  })
  .strict();
export const TransferListResponseSchema = z.object({ items: z.array(TransferViewSchema) });

/**
 * The receiver's acknowledgement: chunks [0, verifiedChunks) verified against the
 * manifest (held copies may go); `complete` with the whole file's hash once it verified
 * too and sits under its final name.
 */
export const TransferAckSchema = z
  .object({
    verifiedChunks: z.number().int().nonnegative(),
    complete: z.boolean().default(false),
    sha256: Sha256HexSchema.optional(),
  })
  .strict();
export type TransferAck = z.input<typeof TransferAckSchema>;

export const ListFilesRequestSchema = z.object({ sessionId: z.string().max(64), path: DevicePathSchema.default('/') }).strict();
export const ListFilesResponseSchema = z.object({ path: z.string(), entries: z.array(FileEntrySchema) });
export type ListFilesResponse = z.infer<typeof ListFilesResponseSchema>;

/** Live: a transfer changed state, or moved (progress at most a few times a second). */
export const TransferProgressEventSchema = z.object({
  type: z.literal('transfer.progress'),
  transferId: z.string(),
  deviceId: z.string(),
  uploadedBytes: z.number().int().nonnegative(),
  deliveredBytes: z.number().int().nonnegative(),
});
