import { z } from 'zod';
import {
  AlarmCodeSchema,
  AlarmSeveritySchema,
  DataItemKeySchema,
  DataValueSchema,
  EventSeveritySchema,
  IdSchema,
} from '../common.ts';
import { ErrorCodeSchema } from '../errors.ts';
import { AgentInfoSchema } from './enroll.ts';
import { CommandNameSchema } from './commands.ts';

/** Times in the agent protocol are epoch milliseconds (compact, and no parsing). */
const EpochMs = z.number().int().nonnegative();

export const DataItemReportSchema = z.object({
  key: DataItemKeySchema,
  value: DataValueSchema,
  at: EpochMs,
});
export type DataItemReport = z.infer<typeof DataItemReportSchema>;

export const EventReportSchema = z.object({
  at: EpochMs,
  type: z.string().min(1).max(64),
  severity: EventSeveritySchema,
  message: z.string().max(1024),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type EventReport = z.infer<typeof EventReportSchema>;

export const AlarmReportSchema = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('raise'),
    at: EpochMs,
    code: AlarmCodeSchema,
    severity: AlarmSeveritySchema,
    message: z.string().max(1024),
  }),
  z.object({ action: z.literal('clear'), at: EpochMs, code: AlarmCodeSchema }),
]);
export type AlarmReport = z.infer<typeof AlarmReportSchema>;

/** What the agent says about a command it was given. */
export const CommandUpdateSchema = z.object({
  id: IdSchema,
  state: z.enum(['running', 'succeeded', 'failed', 'canceled', 'expired']),
  at: EpochMs,
  result: z.unknown().optional(),
  error: z.object({ code: ErrorCodeSchema, message: z.string().max(2048) }).optional(),
});
export type CommandUpdate = z.infer<typeof CommandUpdateSchema>;

export const POLL_LIMITS = {
  dataItems: 2000,
  events: 500,
  alarms: 500,
  commandUpdates: 500,
} as const;

/**
 * The long-poll. Everything the agent has to say rides up on it; the server holds it
 * open until it has work for the device or the poll window ends.
 */
export const PollRequestSchema = z
  .object({
    agent: AgentInfoSchema,
    softwareVersion: z.string().min(1).max(32),
    dataItems: z.array(DataItemReportSchema).max(POLL_LIMITS.dataItems).default([]),
    events: z.array(EventReportSchema).max(POLL_LIMITS.events).default([]),
    alarms: z.array(AlarmReportSchema).max(POLL_LIMITS.alarms).default([]),
    commandUpdates: z.array(CommandUpdateSchema).max(POLL_LIMITS.commandUpdates).default([]),
    /** Reports the agent had to drop while the server was unreachable. */
    dropped: z.number().int().nonnegative().default(0),
    /**
     * A shorter hold than the server's window. 0 makes this a report: stored and answered
     * at once without commands, and it does not replace the poll the agent holds.
     */
    waitMs: z.number().int().nonnegative().optional(),
  })
  .strict();
export type PollRequest = z.input<typeof PollRequestSchema>;
export type ParsedPollRequest = z.output<typeof PollRequestSchema>;

export const CommandDeliverySchema = z.object({
  id: IdSchema,
  name: CommandNameSchema,
  params: z.record(z.string(), z.unknown()),
  /** Time left before the command expires, relative so clocks need not agree. */
  ttlMs: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
});
export type CommandDelivery = z.infer<typeof CommandDeliverySchema>;

export const PollResponseSchema = z.object({
  commands: z.array(CommandDeliverySchema),
  /** Commands the agent should abort (canceled by an engineer). */
  cancels: z.array(IdSchema),
  pollWindowMs: z.number().int().positive(),
  serverTime: EpochMs,
});
export type PollResponse = z.infer<typeof PollResponseSchema>;
