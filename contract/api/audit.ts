import { z } from 'zod';

export const AUDIT_ACTOR_TYPES = ['user', 'device', 'system', 'anonymous'] as const;
export const AUDIT_OUTCOMES = ['ok', 'denied', 'failed'] as const;

export const AuditEntrySchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  actorType: z.enum(AUDIT_ACTOR_TYPES),
  actorId: z.string().nullable(),
  actorName: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  outcome: z.enum(AUDIT_OUTCOMES),
  ip: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const AuditQuerySchema = z
  .object({
    action: z.string().max(64).optional(),
    actorId: z.string().max(64).optional(),
    targetId: z.string().max(64).optional(),
    afterSeq: z.coerce.number().int().min(0).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const AuditListResponseSchema = z.object({ items: z.array(AuditEntrySchema) });

export const AuditVerifyResultSchema = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  firstBadSeq: z.number().int().optional(),
  reason: z.string().optional(),
});
export type AuditVerifyResult = z.infer<typeof AuditVerifyResultSchema>;
