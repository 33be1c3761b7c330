import type { AgentRoutes } from '#contract/http/agent-routes';
import type { ServerContext } from '../context.ts';
import { clientIp } from '../http/errors.ts';
import type { HandlersFor } from '../http/routes.ts';
import type { AgentService } from './agent-service.ts';
import { deviceOf } from './device-auth.ts';

/** Enrollment, the long-poll and goodbye: what every agent calls (the device was admitted before poll and goodbye run). */
export function agentHandlers(ctx: ServerContext, agent: AgentService): HandlersFor<AgentRoutes, 'enroll' | 'poll' | 'goodbye'> {
  return {
    enroll: {
      handle: async (request) => agent.enroll(request.body, clientIp(request)),
      extras: { config: { rateLimit: { max: ctx.config.enrollRateLimit.max, timeWindow: ctx.config.enrollRateLimit.windowMs } } },
    },
    poll: async (request, reply) => {
      // the agent went away before its answer: a held poll stops waiting
      const connection = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) connection.abort();
      });
      return agent.poll(deviceOf(request), request.body, connection.signal);
    },
    goodbye: async (request) => {
      await agent.goodbye(deviceOf(request), request.body.reason);
      return null;
    },
  };
}
