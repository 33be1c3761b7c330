import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CommandOutputQuerySchema, CommandOutputResponseSchema } from '#contract/api/sessions';
import {
  CommandAcceptedSchema,
  CommandListQuerySchema,
  CommandViewSchema,
  CreateCommandRequestSchema,
} from '#contract/api/commands';
import type { AuthService } from '../auth/auth-service.ts';
import { principalOf, requireCapability } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import { errorResponses } from '../http/types.ts';
import type { CommandService } from './command-service.ts';

const IdParams = z.object({ id: z.string().min(1).max(64) });

/** Queue, follow and cancel device commands. */
export function commandRoutes(auth: AuthService, commands: CommandService): FastifyPluginAsyncZod {
  return async (app) => {
    const viewer = requireCapability(auth, 'view');

    app.post('/devices/:id/commands', {
      schema: {
        tags: ['commands'],
        summary: 'Queue a command for a device',
        params: IdParams,
        body: CreateCommandRequestSchema,
        response: { 202: CommandAcceptedSchema, ...errorResponses(400, 401, 403, 404) },
      },
      preHandler: viewer,
    }, async (request, reply) => {
      const accepted = await commands.create(principalOf(request), request.params.id, request.body, clientIp(request));
      return reply.status(202).send(accepted);
    });

    app.get('/devices/:id/commands', {
      schema: { tags: ['commands'], summary: 'Recent commands of a device, newest first', params: IdParams, querystring: CommandListQuerySchema, response: { 200: z.object({ items: z.array(CommandViewSchema) }), ...errorResponses(400, 401, 404) } },
      preHandler: viewer,
    }, async (request) => ({ items: await commands.listForDevice(principalOf(request), request.params.id, request.query.limit) }));

    app.get('/commands/:id', {
      schema: { tags: ['commands'], summary: 'A command with its state, result and history', params: IdParams, response: { 200: CommandViewSchema, ...errorResponses(401, 404) } },
      preHandler: viewer,
    }, async (request) => commands.get(principalOf(request), request.params.id));

    app.get('/commands/:id/output', {
      schema: { tags: ['commands'], summary: 'Output lines of a command, after a sequence number', params: IdParams, querystring: CommandOutputQuerySchema, response: { 200: CommandOutputResponseSchema, ...errorResponses(400, 401, 404) } },
      preHandler: viewer,
    }, async (request) => commands.output(principalOf(request), request.params.id, request.query.after, request.query.limit));

    app.post('/commands/:id/cancel', {
      schema: { tags: ['commands'], summary: 'Cancel a command that has not ended', params: IdParams, response: { 200: CommandViewSchema, ...errorResponses(401, 403, 404, 409) } },
      preHandler: viewer,
    }, async (request) => commands.cancel(principalOf(request), request.params.id, clientIp(request)));
  };
}
