import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AGENT_PATHS,
  EnrollRequestSchema,
  EnrollResponseSchema,
  GoodbyeRequestSchema,
} from '#contract/protocol/enroll';
import { PollRequestSchema, PollResponseSchema } from '#contract/protocol/poll';
import type { ServerContext } from '../context.ts';
import { clientIp } from '../http/errors.ts';
import { errorResponses } from '../http/types.ts';
import type { AgentService } from './agent-service.ts';
import { authenticateDevice } from './device-auth.ts';

/** `/agent/v1/*`: what device agents call. Only enrollment works without a device certificate. */
export function agentRoutes(ctx: ServerContext, agent: AgentService): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(AGENT_PATHS.enroll, {
      schema: {
        tags: ['agent'],
        summary: 'Exchange a one-time enrollment code and a CSR for a device certificate and secret',
        body: EnrollRequestSchema,
        response: { 200: EnrollResponseSchema, ...errorResponses(400, 401, 429) },
      },
      config: { rateLimit: { max: ctx.config.enrollRateLimit.max, timeWindow: ctx.config.enrollRateLimit.windowMs } },
    }, async (request) => agent.enroll(request.body, clientIp(request)));

    app.post(AGENT_PATHS.poll, {
      schema: {
        tags: ['agent'],
        summary: 'Long-poll: report telemetry and command progress, wait for work',
        body: PollRequestSchema,
        response: { 200: PollResponseSchema, ...errorResponses(400, 401, 413) },
      },
    }, async (request, reply) => {
      const device = await authenticateDevice(ctx, request);
      // the agent went away before its answer: a held poll stops waiting
      const connection = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) connection.abort();
      });
      return agent.poll(device, request.body, connection.signal);
    });

    app.post(AGENT_PATHS.goodbye, {
      schema: {
        tags: ['agent'],
        summary: 'Orderly shutdown: the device goes offline (not missing)',
        body: GoodbyeRequestSchema,
        response: { 204: z.null(), ...errorResponses(400, 401) },
      },
    }, async (request, reply) => {
      const device = await authenticateDevice(ctx, request);
      await agent.goodbye(device, request.body.reason);
      return reply.status(204).send(null);
    });
  };
}
