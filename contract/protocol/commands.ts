import { z } from 'zod';
import { DataItemKeySchema, DataValueSchema } from '../common.ts';
import type { DeviceModelId } from '../device-models.ts';
import type { SessionScope } from '../sessions.ts';
import { DIAGNOSTIC_CATALOG } from './diagnostics.ts';
import { FILE_COMMANDS } from './files.ts';
import { TUNNEL_COMMANDS } from './tunnels.ts';

/**
 * The catalog of device commands: name → parameter schema and result schema. The
 * server validates parameters before queueing; the agent validates them again before
 * running (it trusts nothing it receives). Basic commands need no session; privileged
 * ones (the diagnostics, file work) need an active service session with their scope, and the agent
 * checks the session's grant itself.
 */
const BASIC_COMMANDS = {
  ping: {
    label: 'Ping',
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
    label: 'Read status',
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
    label: 'Read data items',
    description: 'Current values of all (or the named) data items, read on the device now.',
    privileged: false,
    params: z
      .object({ keys: z.array(DataItemKeySchema).max(200).optional() })
      .strict(),
    result: z.object({ values: z.record(z.string(), DataValueSchema) }),
  },
} as const;

/** What every catalog entry says about itself. */
export interface CommandSpec {
  readonly label: string;
  readonly description: string;
  readonly privileged: boolean;
  /** The session scope a privileged command needs. */
  readonly scope?: SessionScope;
  /** Models it applies to (all when absent). */
  readonly models?: readonly DeviceModelId[];
  readonly params: z.ZodType;
  readonly result: z.ZodType;
}

const PRIVILEGED = Object.fromEntries(
  Object.entries(DIAGNOSTIC_CATALOG).map(([name, spec]) => [name, { ...spec, privileged: true, scope: 'diagnose' as const }]),
) as { [K in keyof typeof DIAGNOSTIC_CATALOG]: (typeof DIAGNOSTIC_CATALOG)[K] & { privileged: true; scope: 'diagnose' } };

const FILES = Object.fromEntries(Object.entries(FILE_COMMANDS).map(([name, spec]) => [name, { ...spec, privileged: true, scope: 'files' as const }])) as {
  [K in keyof typeof FILE_COMMANDS]: (typeof FILE_COMMANDS)[K] & { privileged: true; scope: 'files' };
};

const TUNNELS = Object.fromEntries(Object.entries(TUNNEL_COMMANDS).map(([name, spec]) => [name, { ...spec, privileged: true, scope: 'tunnel' as const }])) as {
  [K in keyof typeof TUNNEL_COMMANDS]: (typeof TUNNEL_COMMANDS)[K] & { privileged: true; scope: 'tunnel' };
};

export const COMMAND_CATALOG = { ...BASIC_COMMANDS, ...PRIVILEGED, ...FILES, ...TUNNELS } as const;

export type CommandName = keyof typeof COMMAND_CATALOG;
export const COMMAND_NAMES = Object.keys(COMMAND_CATALOG) as [CommandName, ...CommandName[]];
export const CommandNameSchema = z.enum(COMMAND_NAMES);

export type CommandParams<N extends CommandName> = z.infer<(typeof COMMAND_CATALOG)[N]['params']>;
export type CommandResult<N extends CommandName> = z.infer<(typeof COMMAND_CATALOG)[N]['result']>;

export function isCommandName(value: string): value is CommandName {
  return Object.hasOwn(COMMAND_CATALOG, value);
}

/** A catalog entry, seen through the common shape. */
export function commandSpec(name: CommandName): CommandSpec {
  return COMMAND_CATALOG[name] as CommandSpec;
}

/** Whether a command can run on a model. */
export function commandAppliesTo(name: CommandName, modelId: DeviceModelId): boolean {
  const models = commandSpec(name).models;
  return !models || models.includes(modelId);
}
