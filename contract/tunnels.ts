import { z } from 'zod';

/**
 * Tunnels: an engineer reaches a service port of a device (its service web page, a VNC
 * desktop, a line-based service console) from a local port on the laptop, through the
 * server's relay, within an active session with the `tunnel` scope. The vocabulary shared
 * by server, agent and console; the wire is described in docs/protocol.md.
 *
 *   console ─TLS :17002 (or WebSocket :443)─▶ relay ◀─TLS :17001 (or WebSocket :443)─ agent
 *
 * Both legs open with an HTTP/1.1 Upgrade on the relay port (`Upgrade: tether-tunnel`) or a
 * WebSocket on the API port; then HTTP/2 runs over that byte stream: the console is the
 * HTTP/2 client of the relay, the relay the HTTP/2 client of the agent. Every TCP connection
 * made to the console's local port is one CONNECT stream on each leg.
 */

/** What the device offers through a tunnel: a web page, a terminal, a desktop, or plain TCP. */
export const TUNNEL_TARGET_KINDS = ['http', 'console', 'vnc', 'tcp'] as const;
export const TunnelTargetKindSchema = z.enum(TUNNEL_TARGET_KINDS);
export type TunnelTargetKind = z.infer<typeof TunnelTargetKindSchema>;

export const TunnelTargetIdSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a target id is lower-case letters, digits and dashes');

/** One service port a device model allows tunnels to (declared per model in device-models.ts). */
export const TunnelTargetSchema = z.object({
  id: TunnelTargetIdSchema,
  label: z.string(),
  kind: TunnelTargetKindSchema,
  /** The port on the device's own network. */
  port: z.number().int().min(1).max(65535),
});
export type TunnelTarget = z.infer<typeof TunnelTargetSchema>;

/** opening: waiting for the agent's leg; open: both legs may carry traffic; closed: for good. */
export const TUNNEL_STATES = ['opening', 'open', 'closed'] as const;
export const TunnelStateSchema = z.enum(TUNNEL_STATES);
export type TunnelState = z.infer<typeof TunnelStateSchema>;

/** How a leg reached the relay: its own port (17001/17002), or a WebSocket on 443. */
export const TUNNEL_PATHS = ['direct', 'fallback'] as const;
export const TunnelPathSchema = z.enum(TUNNEL_PATHS);
export type TunnelPath = z.infer<typeof TunnelPathSchema>;

/** Why a tunnel closed, recorded and audited with it. */
export const TUNNEL_END_CAUSES = [
  /** The engineer closed it. */
  'USER_CLOSED',
  /** Its session ended (any session end cause: expiry, revocation, user, admin …). */
  'SESSION_ENDED',
  /** The agent's leg did not arrive in time. */
  'SETUP_TIMEOUT',
  /** The agent's leg broke (device restarted, network lost). */
  'AGENT_LOST',
  /** The agent could not reach the target port on the device. */
  'TARGET_UNREACHABLE',
  /** The server stopped. */
  'SERVER_STOPPED',
] as const;
export const TunnelEndCauseSchema = z.enum(TUNNEL_END_CAUSES);
export type TunnelEndCause = z.infer<typeof TunnelEndCauseSchema>;

/** Why a tunnel closed, as the console says it ("Closed — the service session ended"). */
export const TUNNEL_END_CAUSE_TEXT: Readonly<Record<TunnelEndCause, string>> = {
  USER_CLOSED: 'closed by the engineer',
  SESSION_ENDED: 'the service session ended',
  SETUP_TIMEOUT: 'the device did not join in time',
  AGENT_LOST: 'the device’s link was lost',
  TARGET_UNREACHABLE: 'the device could not reach the service port',
  SERVER_STOPPED: 'the server stopped',
};

/** Headers and names on the wire (docs/protocol.md). */
export const TUNNEL_WIRE = {
  /** The `Upgrade:` token on the relay ports. */
  upgrade: 'tether-tunnel',
  /** Console leg: the one-time ticket (with the usual `Authorization: Bearer <access token>`). */
  ticketHeader: 'tether-tunnel-ticket',
  /** Agent leg: the device secret (the certificate is checked by TLS). */
  deviceSecretHeader: 'tether-device-secret',
  /** WebSocket subprotocol of the 443 fallback, both legs. */
  wsProtocol: 'tether-tunnel.v1',
  /** GOAWAY data the agent sends when it leaves because its session ended (revoked at the device). */
  goawaySessionEnded: 'SESSION_ENDED',
} as const;

/** Where a leg may reach the relay: its own port first, the WebSocket on the API port if that fails. */
export const RelayEndpointSchema = z.object({
  /** Host name of the relay (the server's, as the client knows it). */
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** `wss://…/link` on the API port. */
  fallbackUrl: z.string().url(),
});
export type RelayEndpoint = z.infer<typeof RelayEndpointSchema>;
