import { z } from 'zod';
import { CommandStateSchema } from '../common.ts';
import { CommandNameSchema } from '../protocol/commands.ts';
import { ErrorCodeSchema } from '../errors.ts';
import { CommandProgressSchema } from '../protocol/poll.ts';

export const CreateCommandRequestSchema = z
  .object({
    name: CommandNameSchema,
    params: z.record(z.string(), z.unknown()).default({}),
    /** How long the command may wait for the device before it expires. */
    ttlSeconds: z.number().int().min(5).max(7 * 24 * 3600).optional(),
    /** The active service session a privileged command runs in (you must control it). */
    sessionId: z.string().max(64).optional(),
  })
  .strict();
export type CreateCommandRequest = z.input<typeof CreateCommandRequestSchema>;

export const CommandTransitionSchema = z.object({
  state: CommandStateSchema,
  at: z.string(),
  detail: z.string().nullable(),
});

export const CommandViewSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  name: CommandNameSchema,
  params: z.record(z.string(), z.unknown()),
  state: CommandStateSchema,
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  expiresAt: z.string(),
  attempts: z.number().int(),
  sessionId: z.string().nullable(),
  progress: CommandProgressSchema.nullable(),
  result: z.unknown().nullable(),
  error: z.object({ code: ErrorCodeSchema, message: z.string() }).nullable(),
  history: z.array(CommandTransitionSchema),
});
export type CommandView = z.infer<typeof CommandViewSchema>;

export const CommandAcceptedSchema = z.object({ id: z.string(), state: CommandStateSchema });

export const CommandListQuerySchema = z
  .object({ limit: z.coerce.number().int().min(1).max(500).default(50) })
  .strict();
