/** The server ↔ console contract: bodies and views (the routes are contract/http/api-routes.ts). */
import { z } from 'zod';

export * from './auth.ts';
export * from './fleet.ts';
export * from './commands.ts';
export * from './audit.ts';
export * from './live.ts';
export * from './sessions.ts';
export * from './transfers.ts';

export const HealthResponseSchema = z.object({
  status: z.literal('ok'),
  version: z.string(),
  /** The tunnel relay's ports (agents, consoles), for network checks; 443 is the fallback for both. */
  relay: z.object({ agentPort: z.number().int(), consolePort: z.number().int() }),
});
