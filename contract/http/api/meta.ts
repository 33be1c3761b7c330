import { z } from 'zod';
import { HealthResponseSchema } from '../../api/index.ts';
import { ANYONE, jsonRoute } from '../route.ts';

/** Health, and this document. */
export const META_ROUTES = {
  health: jsonRoute({
    method: 'GET', path: '/health', tags: ['meta'], summary: 'Liveness and version',
    caller: ANYONE, status: 200, response: HealthResponseSchema, errors: [],
  }),
  openapi: jsonRoute({
    method: 'GET', path: '/openapi.json', tags: ['meta'], summary: 'This API as an OpenAPI 3.1 document',
    caller: ANYONE, status: 200, response: z.record(z.string(), z.unknown()), errors: [], hidden: true,
  }),
} as const;
