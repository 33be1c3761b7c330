/** The server ↔ console contract (`/api/v1/*`). OpenAPI: `/api/v1/openapi.json`. */
import { z } from 'zod';

export * from './auth.ts';
export * from './fleet.ts';
export * from './commands.ts';
export * from './audit.ts';
export * from './live.ts';
export * from './sessions.ts';
export * from './transfers.ts';

export const API_PREFIX = '/api/v1';

export const HealthResponseSchema = z.object({ status: z.literal('ok'), version: z.string() });
