import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CreateUserRequestSchema, UserSchema } from '#contract/api/auth';
import type { AuthService } from '../auth/auth-service.ts';
import { principalOf, requireCapability } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import { errorResponses } from '../http/types.ts';
import type { UsersService } from './users-service.ts';

/** `/api/v1/users`: administrators manage technician accounts. */
export function userRoutes(auth: AuthService, users: UsersService): FastifyPluginAsyncZod {
  return async (app) => {
    const adminOnly = requireCapability(auth, 'admin');

    app.get('/users', {
      schema: { tags: ['admin'], summary: 'All technician accounts', response: { 200: z.object({ items: z.array(UserSchema) }), ...errorResponses(401, 403) } },
      preHandler: adminOnly,
    }, async () => ({ items: await users.list() }));

    app.post('/users', {
      schema: { tags: ['admin'], summary: 'Create a technician account', body: CreateUserRequestSchema, response: { 201: UserSchema, ...errorResponses(400, 401, 403, 409) } },
      preHandler: adminOnly,
    }, async (request, reply) => {
      const p = principalOf(request);
      const user = await users.create(request.body, { actorType: 'user', actorId: p.id, actorName: p.username, ip: clientIp(request) });
      return reply.status(201).send(user);
    });
  };
}
