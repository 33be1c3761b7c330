import { z } from 'zod';
import { AlarmSchema, DataItemValueSchema, DeviceEventSchema } from './fleet.ts';
import { DeviceStatusSchema } from '../common.ts';
import { CommandProgressSchema } from '../protocol/poll.ts';
import { CommandViewSchema } from './commands.ts';
import { OutputLineSchema, SessionViewSchema } from './sessions.ts';
import { TransferProgressEventSchema, TransferViewSchema } from './transfers.ts';
import { TunnelViewSchema } from './tunnels.ts';

/**
 * Messages on `GET /api/v1/events` (WebSocket). The server sends only events of devices
 * in the caller's scope. The client may send `{type:"auth", accessToken}` to renew its
 * token; the server closes with 4001 when the token expires unrenewed.
 */
export const LiveEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), serverTime: z.string() }),
  z.object({
    type: z.literal('device.status'),
    deviceId: z.string(),
    status: DeviceStatusSchema,
    at: z.string(),
    lastContactAt: z.string().nullable(),
  }),
  z.object({ type: z.literal('device.data'), deviceId: z.string(), items: z.array(DataItemValueSchema) }),
  z.object({ type: z.literal('device.alarm'), deviceId: z.string(), alarm: AlarmSchema }),
  z.object({ type: z.literal('device.event'), deviceId: z.string(), event: DeviceEventSchema }),
  /** A command changed state: its view as that change left it, so consoles update in place. */
  z.object({ type: z.literal('command.state'), deviceId: z.string(), command: CommandViewSchema }),
  z.object({
    type: z.literal('command.progress'),
    deviceId: z.string(),
    commandId: z.string(),
    progress: CommandProgressSchema.nullable(),
    lines: z.array(OutputLineSchema),
  }),
  z.object({ type: z.literal('session.state'), deviceId: z.string(), session: SessionViewSchema }),
  z.object({ type: z.literal('transfer.state'), deviceId: z.string(), transfer: TransferViewSchema }),
  TransferProgressEventSchema,
  /** A tunnel changed: state, paths, counters (about once a second while bytes move). */
  z.object({ type: z.literal('tunnel'), deviceId: z.string(), tunnel: TunnelViewSchema }),
]);
export type LiveEvent = z.infer<typeof LiveEventSchema>;

export const LiveClientMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('auth'), accessToken: z.string().min(1).max(4096) }),
]);

/** WebSocket close codes the server uses. */
export const LIVE_CLOSE = {
  tokenExpired: 4001,
  sessionRevoked: 4002,
  badMessage: 4003,
} as const;
