import type { Transaction } from 'kysely';
import { SESSION_SCOPES, type ConsentPolicy, type ScopePolicies } from '#contract/sessions';
import type { ServerContext } from '../context.ts';
import type { AdminActor } from '../users/users-service.ts';
import type { Database } from '../store/schema.ts';

type Subject = { type: 'customer' | 'device'; id: string };

/**
 * Consent policy per scope — allow, ask or deny — for a customer, with per-device
 * overrides, as Axeda's policy server kept them. A device follows its customer unless it
 * has its own; a customer without one follows the server default.
 */
export class ConsentPolicies {
  constructor(private readonly ctx: ServerContext) {}

  async forSubject(subject: Subject): Promise<Partial<ScopePolicies>> {
    const rows = await this.ctx.db
      .selectFrom('consent_policies')
      .select(['scope', 'policy'])
      .where('subject_type', '=', subject.type)
      .where('subject_id', '=', subject.id)
      .execute();
    return Object.fromEntries(rows.map((r) => [r.scope, r.policy]));
  }

  /** A customer's policy, scopes it does not name filled from the server default. */
  async forCustomer(customerId: string): Promise<{ policies: ScopePolicies; inherited: boolean }> {
    const own = await this.forSubject({ type: 'customer', id: customerId });
    const fallback: ConsentPolicy = this.ctx.config.defaultConsentPolicy;
    return {
      policies: Object.fromEntries(SESSION_SCOPES.map((s) => [s, own[s] ?? fallback])) as ScopePolicies,
      inherited: SESSION_SCOPES.some((s) => own[s] === undefined),
    };
  }

  /** The policy in force for each scope on a device. */
  async effective(deviceId: string, customerId: string): Promise<ScopePolicies> {
    const [device, customer] = await Promise.all([this.forSubject({ type: 'device', id: deviceId }), this.forSubject({ type: 'customer', id: customerId })]);
    const fallback: ConsentPolicy = this.ctx.config.defaultConsentPolicy;
    return Object.fromEntries(SESSION_SCOPES.map((s) => [s, device[s] ?? customer[s] ?? fallback])) as ScopePolicies;
  }

  /** Replaces a subject's policy (null removes a device override). Audited. */
  async set(subject: Subject, policies: ScopePolicies | null, actor: AdminActor): Promise<void> {
    await this.ctx.db.transaction().execute(async (trx: Transaction<Database>) => {
      await trx.deleteFrom('consent_policies').where('subject_type', '=', subject.type).where('subject_id', '=', subject.id).execute();
      if (policies) {
        const now = Date.now();
        await trx
          .insertInto('consent_policies')
          .values(SESSION_SCOPES.map((scope) => ({ subject_type: subject.type, subject_id: subject.id, scope, policy: policies[scope], updated_at: now })))
          .execute();
      }
      await this.ctx.audit.appendIn(trx, {
        ...actor,
        action: 'admin.consent-policy',
        outcome: 'ok',
        targetType: subject.type,
        targetId: subject.id,
        detail: { policies },
      });
    });
  }
}
