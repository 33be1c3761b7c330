import { z } from 'zod';
import {
  RelayEndpointSchema,
  TunnelEndCauseSchema,
  TunnelPathSchema,
  TunnelStateSchema,
  TunnelTargetIdSchema,
  TunnelTargetKindSchema,
} from '../tunnels.ts';
import { SessionUserSchema } from './sessions.ts';

/**
 * Tunnels on the console API. A tunnel belongs to a device and to the active session (with
 * the `tunnel` scope) it was opened in; it closes with that session.
 *
 *   POST /api/v1/sessions/:id/tunnels     open one to a target the device model allows
 *   GET  /api/v1/tunnels                  the caller's tunnels (open first, then recent)
 *   GET  /api/v1/devices/:id/tunnels      the device's tunnels, newest first
 *   GET  /api/v1/tunnels/:id              one
 *   POST /api/v1/tunnels/:id/tickets      a fresh one-time ticket (to reconnect the console leg)
 *   POST /api/v1/tunnels/:id/close        close it (both legs at once)
 *   Upgrade /api/v1/tunnels/:id/link      the console leg: on the relay port (Upgrade:
 *                                         tether-tunnel) or as a WebSocket on this port
 *
 * Live event `tunnel` carries a TunnelView whenever one changes (state, path, counters).
 */

export const TunnelViewSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  deviceSerial: z.string(),
  sessionId: z.string(),
  targetId: TunnelTargetIdSchema,
  targetLabel: z.string(),
  targetKind: TunnelTargetKindSchema,
  targetPort: z.number().int(),
  state: TunnelStateSchema,
  /** How each leg reached the relay; null until it has. */
  consolePath: TunnelPathSchema.nullable(),
  agentPath: TunnelPathSchema.nullable(),
  /** Bytes towards the device (console → device) and back (device → console). */
  bytesToDevice: z.number().int().nonnegative(),
  bytesFromDevice: z.number().int().nonnegative(),
  /** TCP connections carried now, and since the tunnel opened. */
  activeConnections: z.number().int().nonnegative(),
  totalConnections: z.number().int().nonnegative(),
  openedBy: SessionUserSchema,
  openedAt: z.string(),
  closedAt: z.string().nullable(),
  endCause: TunnelEndCauseSchema.nullable(),
});
export type TunnelView = z.infer<typeof TunnelViewSchema>;

export const OpenTunnelRequestSchema = z.object({ targetId: TunnelTargetIdSchema }).strict();
export type OpenTunnelRequest = z.infer<typeof OpenTunnelRequestSchema>;

/** A one-time ticket for the console leg: bound to user, session, device, tunnel and target; short-lived. */
export const TunnelTicketSchema = z.object({
  ticket: z.string().min(32).max(128),
  expiresAt: z.string(),
  relay: RelayEndpointSchema,
});
export type TunnelTicket = z.infer<typeof TunnelTicketSchema>;

export const OpenTunnelResponseSchema = z.object({ tunnel: TunnelViewSchema, link: TunnelTicketSchema });
export type OpenTunnelResponse = z.infer<typeof OpenTunnelResponseSchema>;

export const TunnelListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  state: TunnelStateSchema.optional(),
});

/** `GET /tunnels`, `GET /devices/:deviceId/tunnels`. */
export const TunnelListResponseSchema = z.object({ items: z.array(TunnelViewSchema) });
