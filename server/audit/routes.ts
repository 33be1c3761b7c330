import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AuditListResponseSchema, AuditQuerySchema, AuditVerifyResultSchema } from '#contract/api/audit';
import type { AuthService } from '../auth/auth-service.ts';
import { requireCapability } from '../http/auth-hook.ts';
import { errorResponses } from '../http/types.ts';
import type { AuditLog } from './audit-log.ts';

/** `/api/v1/audit`: read and verify the hash-chained log (administrators). */
export function auditRoutes(auth: AuthService, audit: AuditLog): FastifyPluginAsyncZod {
  return async (app) => {
    const auditor = requireCapability(auth, 'audit');

    app.get('/audit', {
      schema: { tags: ['audit'], summary: 'Audit entries, newest first (or after a sequence number)', querystring: AuditQuerySchema, response: { 200: AuditListResponseSchema, ...errorResponses(400, 401, 403) } },
      preHandler: auditor,
    }, async (request) => ({ items: await audit.list(request.query) }));

    app.get('/audit/verify', {
      schema: { tags: ['audit'], summary: 'Verify the whole hash chain; names the first broken entry', response: { 200: AuditVerifyResultSchema, ...errorResponses(401, 403) } },
      preHandler: auditor,
    }, async () => audit.verify());
  };
}
