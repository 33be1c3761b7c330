import { AuditListResponseSchema, AuditQuerySchema, AuditVerifyResultSchema } from '../../api/audit.ts';
import { jsonRoute, userWith } from '../route.ts';

/** Read and verify the hash-chained log (auditors). */
export const AUDIT_ROUTES = {
  'audit.list': jsonRoute({
    method: 'GET', path: '/audit', tags: ['audit'], summary: 'Audit entries, newest first (or after a sequence number)',
    caller: userWith('audit'), query: AuditQuerySchema, status: 200, response: AuditListResponseSchema, errors: [400, 401, 403],
  }),
  'audit.verify': jsonRoute({
    method: 'GET', path: '/audit/verify', tags: ['audit'], summary: 'Verify the whole hash chain; names the first broken entry',
    caller: userWith('audit'), status: 200, response: AuditVerifyResultSchema, errors: [401, 403],
  }),
} as const;
