import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  LoginRequestSchema,
  LoginResponseSchema,
  LogoutRequestSchema,
  RefreshRequestSchema,
  TokenPairSchema,
  UserSchema,
} from '#contract/api/auth';
import type { ServerContext } from '../context.ts';
import { clientIp } from '../http/errors.ts';
import { principalOf, requireCapability } from '../http/auth-hook.ts';
import { errorResponses } from '../http/types.ts';
import type { AuthService } from './auth-service.ts';

/** `/api/v1/auth/*` and `/api/v1/me`. */
export function authRoutes(ctx: ServerContext, auth: AuthService): FastifyPluginAsyncZod {
  return async (app) => {
    const signedIn = requireCapability(auth, 'view');

    app.post('/auth/login', {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with username and password',
        body: LoginRequestSchema,
        response: { 200: LoginResponseSchema, ...errorResponses(400, 401, 403, 423, 429) },
      },
      config: { rateLimit: { max: ctx.config.loginRateLimit.max, timeWindow: ctx.config.loginRateLimit.windowMs } },
    }, async (request) => auth.login(request.body.username, request.body.password, { ip: clientIp(request) }));

    app.post('/auth/refresh', {
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new token pair (the old one is spent)',
        body: RefreshRequestSchema,
        response: { 200: TokenPairSchema, ...errorResponses(400, 401, 429) },
      },
      config: { rateLimit: { max: ctx.config.loginRateLimit.max * 4, timeWindow: ctx.config.loginRateLimit.windowMs } },
    }, async (request) => auth.refresh(request.body.refreshToken, { ip: clientIp(request) }));

    app.post('/auth/logout', {
      schema: {
        tags: ['auth'],
        summary: 'End this login session',
        body: LogoutRequestSchema.optional(),
        response: { 204: z.null(), ...errorResponses(401) },
      },
      preHandler: signedIn,
    }, async (request, reply) => {
      await auth.logout(principalOf(request), { ip: clientIp(request) });
      return reply.status(204).send(null);
    });

    app.get('/me', {
      schema: { tags: ['auth'], summary: 'The signed-in user', response: { 200: UserSchema, ...errorResponses(401) } },
      preHandler: signedIn,
    }, async (request) => {
      const p = principalOf(request);
      return {
        id: p.id,
        username: p.username,
        displayName: p.displayName,
        role: p.role,
        customerIds: p.customers === 'all' ? ('all' as const) : [...p.customers],
      };
    });
  };
}
