import { z } from 'zod';

/** A data item value as devices report it. */
export const DataValueSchema = z.union([z.number().finite(), z.string().max(1024), z.boolean()]);
export type DataValue = z.infer<typeof DataValueSchema>;

export const DEVICE_STATUSES = ['online', 'offline', 'missing'] as const;
export const DeviceStatusSchema = z.enum(DEVICE_STATUSES);
/**
 * `online`: contacting the server on schedule. `offline`: never connected yet, or the
 * agent said goodbye (orderly shutdown). `missing`: stopped contacting without saying so,
 * after N missed polls plus a grace period — the case that usually needs a phone call.
 */
export type DeviceStatus = z.infer<typeof DeviceStatusSchema>;

export const ALARM_SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export const AlarmSeveritySchema = z.enum(ALARM_SEVERITIES);
export type AlarmSeverity = z.infer<typeof AlarmSeveritySchema>;

export const ALARM_STATES = ['active', 'acknowledged', 'closed'] as const;
export const AlarmStateSchema = z.enum(ALARM_STATES);
export type AlarmState = z.infer<typeof AlarmStateSchema>;

export const EVENT_SEVERITIES = ['info', 'warning', 'error'] as const;
export const EventSeveritySchema = z.enum(EVENT_SEVERITIES);
export type EventSeverity = z.infer<typeof EventSeveritySchema>;

/**
 * Command lifecycle, a durable state machine (as in hawkBit): queued → delivered →
 * running → succeeded | failed | expired | canceled.
 */
export const COMMAND_STATES = [
  'queued',
  'delivered',
  'running',
  'succeeded',
  'failed',
  'expired',
  'canceled',
] as const;
export const CommandStateSchema = z.enum(COMMAND_STATES);
export type CommandState = z.infer<typeof CommandStateSchema>;

export const TERMINAL_COMMAND_STATES: readonly CommandState[] = [
  'succeeded',
  'failed',
  'expired',
  'canceled',
];

/** Identifier fields: bounded, printable, no path or control characters. */
export const IdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._:-]+$/, 'must be letters, digits, ".", "_", ":" or "-"');

export const SerialSchema = z
  .string()
  .min(3)
  .max(40)
  .regex(/^[A-Z0-9-]+$/, 'must be upper-case letters, digits or "-"');

/** A data item key such as `syringeA.volume`. */
export const DataItemKeySchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'must start with a letter; letters, digits, ".", "_", "-"');

export const AlarmCodeSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Z][A-Z0-9_]*$/, 'must be UPPER_SNAKE_CASE');
