import type { AUDIT_ROUTES } from '#contract/http/api/audit';
import type { ApiRoutes } from '#contract/http/api-routes';
import type { HandlersFor } from '../http/routes.ts';
import type { AuditLog } from './audit-log.ts';

/** Read and verify the hash-chained log (auditors). */
export function auditHandlers(audit: AuditLog): HandlersFor<ApiRoutes, keyof typeof AUDIT_ROUTES> {
  return {
    'audit.list': async (request) => ({ items: await audit.list(request.query) }),
    'audit.verify': async () => audit.verify(),
  };
}
