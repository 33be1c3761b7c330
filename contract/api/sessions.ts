import { z } from 'zod';
import {
  ConsentKindSchema,
  SESSION_SCOPES,
  ScopePoliciesSchema,
  SessionEndCauseSchema,
  SessionScopeSchema,
  SessionStateSchema,
} from '../sessions.ts';

export const SessionUserSchema = z.object({ id: z.string(), username: z.string(), displayName: z.string() });

export const SessionTimelineEntrySchema = z.object({ at: z.string(), type: z.string(), detail: z.string().nullable() });

/** A service session as the console shows it. Times are ISO 8601. */
export const SessionViewSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  state: SessionStateSchema,
  endCause: SessionEndCauseSchema.nullable(),
  scopes: z.array(SessionScopeSchema),
  reason: z.string(),
  durationMinutes: z.number().int(),
  engineer: SessionUserSchema,
  observers: z.array(SessionUserSchema),
  createdAt: z.string(),
  /** While awaiting consent: when no answer counts as denied. */
  consentDeadline: z.string().nullable(),
  /** Who decided: `policy`, or the operator at the device. */
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  activatedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  pendingExtension: z.object({ durationMinutes: z.number().int(), deadline: z.string() }).nullable(),
  timeline: z.array(SessionTimelineEntrySchema),
});
export type SessionView = z.infer<typeof SessionViewSchema>;

const UniqueScopes = z
  .array(SessionScopeSchema)
  .min(1, 'choose at least one scope')
  .max(SESSION_SCOPES.length)
  .refine((s) => new Set(s).size === s.length, 'each scope once');

export const CreateSessionRequestSchema = z
  .object({
    scopes: UniqueScopes,
    reason: z.string().trim().min(3, 'give a reason or ticket number').max(500),
    durationMinutes: z.number().int().min(1).max(480),
  })
  .strict();
export type CreateSessionRequest = z.infer<typeof CreateSessionRequestSchema>;

export const ExtendSessionRequestSchema = z.object({ durationMinutes: z.number().int().min(1).max(240) }).strict();

export const SessionListResponseSchema = z.object({ items: z.array(SessionViewSchema) });

/** A diagnostic action a device offers, with the JSON Schema of its parameters. */
export const DiagnosticActionSchema = z.object({
  name: z.string(),
  label: z.string(),
  description: z.string(),
  scope: SessionScopeSchema,
  paramsSchema: z.record(z.string(), z.unknown()),
});
export type DiagnosticAction = z.infer<typeof DiagnosticActionSchema>;
export const DiagnosticListResponseSchema = z.object({ items: z.array(DiagnosticActionSchema) });

export const OutputLineSchema = z.object({ seq: z.number().int(), at: z.string(), text: z.string() });
export type OutputLine = z.infer<typeof OutputLineSchema>;

export const CommandOutputQuerySchema = z
  .object({ after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(5000).default(1000) })
  .strict();
export const CommandOutputResponseSchema = z.object({
  commandId: z.string(),
  lines: z.array(OutputLineSchema),
  /** Pass as `after` to get what comes next. */
  lastSeq: z.number().int(),
});

export const ConsentPolicyViewSchema = z.object({
  policies: ScopePoliciesSchema,
  /** For a device: true when it follows its customer's policy. */
  inherited: z.boolean(),
});
export const UpdateConsentPolicySchema = z.object({ policies: ScopePoliciesSchema.nullable() }).strict();

/** Consent request as carried in session events (also for the device panel). */
export const PendingConsentSchema = z.object({ kind: ConsentKindSchema, deadline: z.string() });
