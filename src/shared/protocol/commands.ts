import { z } from 'zod';
import { DataItemKeySchema, DataValueSchema } from '../common.ts';

/**
 * The catalog of device commands: name → parameter schema and result schema. The
 * server validates parameters before queueing; the agent validates them again before
 * running (it trusts nothing it receives). Privileged diagnostics join this catalog
 * with consent-gated sessions.
 */
export const COMMAND_CATALOG = {
  ping: {
    description: 'Round trip through the agent; proves the command channel works.',
    privileged: false,
    params: z
      .object({
        echo: z.string().max(256).optional(),
        /** Simulated work time on the device, for exercising long-running commands. */
        delayMs: z.number().int().min(0).max(600_000).optional(),
      })
      .strict(),
    result: z.object({ echo: z.string().optional(), agentTime: z.number() }),
  },
  'read-status': {
    description: 'Agent and device status: versions, uptime, queue and connection health.',
    privileged: false,
    params: z.object({}).strict(),
    result: z.object({
      serial: z.string(),
      model: z.string(),
      softwareVersion: z.string(),
      agentVersion: z.string(),
      uptimeSeconds: z.number(),
      deviceState: z.string(),
      outboundQueued: z.number().int(),
      outboundDropped: z.number().int(),
    }),
  },
  'read-data-items': {
    description: 'Current values of all (or the named) data items, read on the device now.',
    privileged: false,
    params: z
      .object({ keys: z.array(DataItemKeySchema).max(200).optional() })
      .strict(),
    result: z.object({ values: z.record(z.string(), DataValueSchema) }),
  },
} as const;

export type CommandName = keyof typeof COMMAND_CATALOG;
export const COMMAND_NAMES = Object.keys(COMMAND_CATALOG) as [CommandName, ...CommandName[]];
export const CommandNameSchema = z.enum(COMMAND_NAMES);

export type CommandParams<N extends CommandName> = z.infer<(typeof COMMAND_CATALOG)[N]['params']>;
export type CommandResult<N extends CommandName> = z.infer<(typeof COMMAND_CATALOG)[N]['result']>;

export function isCommandName(value: string): value is CommandName {
  return Object.hasOwn(COMMAND_CATALOG, value);
}
