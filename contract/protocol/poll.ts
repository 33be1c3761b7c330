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
import { ConsentKindSchema, SessionEndCauseSchema, SessionPersonSchema, SessionScopeSchema } from '../sessions.ts';

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

/** How far a long command got, for the console's progress bar. */
export const CommandProgressSchema = z.object({
  percent: z.number().min(0).max(100),
  message: z.string().max(256).optional(),
});
export type CommandProgress = z.infer<typeof CommandProgressSchema>;

export const OUTPUT_LIMITS = { linesPerUpdate: 200, lineLength: 2000 } as const;

/** What the agent says about a command it was given (running ones may carry progress and output). */
export const CommandUpdateSchema = z.object({
  id: IdSchema,
  state: z.enum(['running', 'succeeded', 'failed', 'canceled', 'expired']),
  at: EpochMs,
  result: z.unknown().optional(),
  error: z.object({ code: ErrorCodeSchema, message: z.string().max(2048) }).optional(),
  progress: CommandProgressSchema.optional(),
  /** New output lines since the last update, in order. */
  output: z.array(z.string().max(OUTPUT_LIMITS.lineLength)).max(OUTPUT_LIMITS.linesPerUpdate).optional(),
});

/** The device-side operator's answer to a consent request. */
export const ConsentDecisionSchema = z.object({
  sessionId: IdSchema,
  kind: ConsentKindSchema,
  approve: z.boolean(),
  /** Who answered at the device (as they identified themselves). */
  operator: z.string().min(1).max(128),
  at: EpochMs,
});
export type ConsentDecision = z.infer<typeof ConsentDecisionSchema>;

/** The customer ended a session at the device. */
export const SessionRevocationSchema = z.object({
  sessionId: IdSchema,
  operator: z.string().min(1).max(128),
  at: EpochMs,
});
export type SessionRevocation = z.infer<typeof SessionRevocationSchema>;
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
    consentDecisions: z.array(ConsentDecisionSchema).max(50).default([]),
    sessionRevocations: z.array(SessionRevocationSchema).max(50).default([]),
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
  /** For a privileged command: its session and that session's current grant. */
  sessionId: IdSchema.optional(),
  grant: z.string().max(4096).optional(),
  /** Time left before the command expires, relative so clocks need not agree. */
  ttlMs: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
});
export type CommandDelivery = z.infer<typeof CommandDeliverySchema>;

/** A consent request for the device-side operator. */
export const ConsentRequestSchema = z.object({
  sessionId: IdSchema,
  kind: ConsentKindSchema,
  engineer: SessionPersonSchema,
  scopes: z.array(SessionScopeSchema),
  reason: z.string(),
  durationMinutes: z.number().int().positive(),
  /** Time left to answer; no answer counts as denied. */
  expiresInMs: z.number().int().nonnegative(),
});
export type ConsentRequest = z.infer<typeof ConsentRequestSchema>;

/** A session that is active on the device now, with its grant and who is connected. */
export const DeviceSessionSchema = z.object({
  sessionId: IdSchema,
  grant: z.string().max(4096),
  scopes: z.array(SessionScopeSchema),
  /** Epoch ms; the grant says the same, signed. */
  expiresAt: EpochMs,
  controller: SessionPersonSchema,
  observers: z.array(SessionPersonSchema),
  reason: z.string(),
});
export type DeviceSession = z.infer<typeof DeviceSessionSchema>;

export const PollResponseSchema = z.object({
  commands: z.array(CommandDeliverySchema),
  /** Commands the agent should abort (canceled by an engineer). */
  cancels: z.array(IdSchema),
  /**
   * Session state of the device, in full on every held-poll answer; absent on report
   * answers (absent means "not sent", never "none"):
   * pending consent requests, active sessions, and sessions ended in the last minutes
   * with their cause. The agent applies it idempotently.
   */
  consents: z.array(ConsentRequestSchema).optional(),
  sessions: z.array(DeviceSessionSchema).optional(),
  endedSessions: z.array(z.object({ sessionId: IdSchema, cause: SessionEndCauseSchema })).optional(),
  pollWindowMs: z.number().int().positive(),
  serverTime: EpochMs,
});
export type PollResponse = z.infer<typeof PollResponseSchema>;
