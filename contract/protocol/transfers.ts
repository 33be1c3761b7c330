import { z } from 'zod';
import { ErrorCodeSchema } from '../errors.ts';
import { DevicePathSchema, TransferDirectionSchema, TransferManifestSchema, TransferStateSchema } from '../transfers.ts';

/**
 * The agent's side of a transfer (device certificate + device secret, as every /agent/v1
 * route). The agent learns of a transfer from a `send-file` or `receive-file` command.
 *
 *   GET  /agent/v1/transfers/:id             this, for a transfer of this device only
 *   POST /agent/v1/transfers/:id/manifest    from-device: the agent declares what it sends
 *   tus  /agent/v1/uploads/:transferId       from-device bytes, agent → server (tus 1.0.0)
 *   GET  /agent/v1/transfers/:id/content     to-device bytes, server → agent (Range, one chunk
 *                                            per request; waits briefly for a chunk still on
 *                                            its way, then CHUNK_NOT_READY)
 *   POST /agent/v1/transfers/:id/ack         to-device: chunks verified, then the whole file
 *
 * A transfer that is not running (paused, canceled, ended with its session) answers
 * TRANSFER_NOT_ACTIVE; the agent stops and keeps its state for a resume.
 */
export const AgentTransferSchema = z.object({
  id: z.string(),
  direction: TransferDirectionSchema,
  devicePath: DevicePathSchema,
  state: TransferStateSchema,
  chunkSize: z.number().int().positive(),
  manifest: TransferManifestSchema.nullable(),
  uploadedBytes: z.number().int().nonnegative(),
  deliveredBytes: z.number().int().nonnegative(),
  /** Why it stopped: the agent drops a partial file only when the transfer can never resume (canceled, expired). */
  error: z.object({ code: ErrorCodeSchema, message: z.string() }).nullable(),
});
export type AgentTransfer = z.infer<typeof AgentTransferSchema>;

/** Response headers of a content request: the chunk's declared hash, so the receiver need not look it up. */
export const TRANSFER_HEADERS = {
  chunkIndex: 'tether-chunk-index',
  chunkSha256: 'tether-chunk-sha256',
} as const;
