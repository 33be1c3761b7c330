import { z } from 'zod';
import { IdSchema } from '../common.ts';
import { RelayEndpointSchema, TunnelTargetIdSchema } from '../tunnels.ts';

/**
 * The device's part of a tunnel: an `open-tunnel` command in the session (scope `tunnel`,
 * grant checked by the agent). It runs for the tunnel's whole life: the agent checks the
 * target against its model's list, dials the relay (`Upgrade: tether-tunnel` on the relay
 * port with its device certificate and secret, else a WebSocket on the API port), serves
 * HTTP/2 on that one outbound connection — each CONNECT stream from the relay is one TCP
 * connection to the target port on the device — and ends when the relay closes the link
 * or the command is canceled (session end, tunnel closed). The agent never listens.
 */
export const TUNNEL_COMMANDS = {
  'open-tunnel': {
    label: 'Open a tunnel',
    description: 'The device dials the relay and carries connections to one of its service ports.',
    params: z.object({ tunnelId: IdSchema, targetId: TunnelTargetIdSchema, relay: RelayEndpointSchema }).strict(),
    result: z.object({
      path: z.enum(['direct', 'fallback']),
      bytesToDevice: z.number().int().nonnegative(),
      bytesFromDevice: z.number().int().nonnegative(),
      connections: z.number().int().nonnegative(),
    }),
  },
} as const;

export type TunnelCommandName = keyof typeof TUNNEL_COMMANDS;
