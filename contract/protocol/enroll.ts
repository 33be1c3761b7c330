import { z } from 'zod';
import { IdSchema } from '../common.ts';

/** Header carrying the device secret on every request after enrollment. */
export const DEVICE_SECRET_HEADER = 'x-tether-device-secret';

export const AgentInfoSchema = z.object({
  version: z.string().min(1).max(32),
  /** Random per process start; lets the server tell a restart from a reconnect. */
  bootId: z.string().min(8).max(64),
});
export type AgentInfo = z.infer<typeof AgentInfoSchema>;

/**
 * One-time enrollment: the agent generates its key pair locally and sends only a CSR;
 * the private key never leaves the device.
 */
export const EnrollRequestSchema = z
  .object({
    enrollmentCode: z.string().min(8).max(64),
    csrPem: z.string().min(100).max(8192),
    agent: AgentInfoSchema,
    softwareVersion: z.string().min(1).max(32),
  })
  .strict();
export type EnrollRequest = z.infer<typeof EnrollRequestSchema>;

export const EnrollResponseSchema = z.object({
  deviceId: IdSchema,
  serial: z.string(),
  modelId: z.string(),
  certificatePem: z.string(),
  deviceCaPem: z.string(),
  deviceSecret: z.string(),
  /** Public key (SPKI PEM) the agent pins to verify session grants itself. */
  grantPublicKeyPem: z.string(),
  pollWindowMs: z.number().int().positive(),
});
export type EnrollResponse = z.infer<typeof EnrollResponseSchema>;

export const GoodbyeRequestSchema = z
  .object({ reason: z.enum(['shutdown', 'restart', 'update']) })
  .strict();
export type GoodbyeRequest = z.infer<typeof GoodbyeRequestSchema>;
