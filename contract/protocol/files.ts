import { z } from 'zod';
import { IdSchema } from '../common.ts';
import { DevicePathSchema, FileEntrySchema, Sha256HexSchema } from '../transfers.ts';

/**
 * Remote file work: privileged device commands that need an active service session with
 * the `files` scope. The agent checks every path against its model's roots on its own
 * disk (no `..`, no absolute path outside a root, no symlink escape, size limit) and
 * refuses and audits anything else, whatever the server asked.
 *
 * A transfer's bytes do not travel in the command: `send-file` and `receive-file` name a
 * transfer the server created; the agent then speaks the transfer protocol (manifest,
 * tus upload, Range download, acks) under /agent/v1/transfers. Progress is reported as
 * command progress; the agent resumes from its own saved state when the server queues
 * the command again after an interruption.
 */
export const FILE_COMMANDS = {
  'list-files': {
    label: 'List files',
    description: 'Lists a folder inside the device’s allowed roots (or the roots themselves for "/").',
    params: z.object({ path: DevicePathSchema.default('/') }).strict(),
    result: z.object({ path: z.string(), entries: z.array(FileEntrySchema) }),
  },
  'send-file': {
    label: 'Send a file to the console',
    description: 'The device uploads one of its files for a transfer.',
    params: z.object({ transferId: IdSchema, path: DevicePathSchema }).strict(),
    result: z.object({ size: z.number().int().nonnegative(), sha256: Sha256HexSchema }),
  },
  'receive-file': {
    label: 'Receive a file from the console',
    description: 'The device downloads a transfer and, once verified, places it at the path.',
    params: z.object({ transferId: IdSchema, path: DevicePathSchema, overwrite: z.boolean().default(false) }).strict(),
    result: z.object({ size: z.number().int().nonnegative(), sha256: Sha256HexSchema, path: z.string() }),
  },
} as const;

export type FileCommandName = keyof typeof FILE_COMMANDS;
