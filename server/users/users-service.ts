import { randomUUID } from 'node:crypto';
import { TetherError } from '#contract/errors';
import type { CreateUserRequest, User } from '#contract/api/auth';
import type { ServerContext } from '../context.ts';
import type { AuditInput } from '../audit/audit-log.ts';
import { generatePassword, hashPassword } from '../auth/passwords.ts';

export const BOOTSTRAP_ADMIN = 'admin';

/** Who is making an admin change, for the audit log. */
export type AdminActor = Pick<AuditInput, 'actorType' | 'actorId' | 'actorName' | 'ip'>;

export const SYSTEM_ACTOR: AdminActor = { actorType: 'system', actorId: null, actorName: 'tether-server', ip: null };

/** Technician accounts: creation, passwords, the first administrator. */
export class UsersService {
  constructor(private readonly ctx: ServerContext) {}

  async create(input: CreateUserRequest, actor: AdminActor): Promise<User> {
    const { db, audit } = this.ctx;
    const id = randomUUID();
    const passwordHash = await hashPassword(input.password);
    const customerIds = input.customerIds === 'all' ? [] : [...new Set(input.customerIds)];
    await db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('users').select('id').where('username', '=', input.username).executeTakeFirst();
      if (existing) throw new TetherError('CONFLICT', `a user named ${input.username} already exists`);
      if (customerIds.length) {
        const found = await trx.selectFrom('customers').select('id').where('id', 'in', customerIds).execute();
        const missing = customerIds.filter((c) => !found.some((f) => f.id === c));
        if (missing.length) throw new TetherError('VALIDATION_FAILED', `unknown customer id(s): ${missing.join(', ')}`);
      }
      await trx
        .insertInto('users')
        .values({
          id,
          username: input.username,
          display_name: input.displayName,
          role: input.role,
          all_customers: input.customerIds === 'all' ? 1 : 0,
          password_hash: passwordHash,
          failed_logins: 0,
          locked_until: null,
          disabled: 0,
          created_at: Date.now(),
        })
        .execute();
      if (customerIds.length) {
        await trx.insertInto('user_customers').values(customerIds.map((c) => ({ user_id: id, customer_id: c }))).execute();
      }
      await audit.appendIn(trx, {
        ...actor,
        action: 'admin.user.create',
        outcome: 'ok',
        targetType: 'user',
        targetId: id,
        detail: { username: input.username, role: input.role, customerIds: input.customerIds },
      });
    });
    return { id, username: input.username, displayName: input.displayName, role: input.role, customerIds: input.customerIds === 'all' ? 'all' : customerIds };
  }

  async list(): Promise<User[]> {
    const users = await this.ctx.db.selectFrom('users').selectAll().orderBy('username').execute();
    const links = await this.ctx.db.selectFrom('user_customers').selectAll().execute();
    return users.map((u) => ({
      id: u.id,
      username: u.username,
      displayName: u.display_name,
      role: u.role,
      customerIds: u.all_customers ? 'all' : links.filter((l) => l.user_id === u.id).map((l) => l.customer_id),
    }));
  }

  /** Sets a new password (and clears any lockout). Audited as an admin change. */
  async setPassword(username: string, password: string, actor: AdminActor): Promise<void> {
    const hash = await hashPassword(password);
    await this.ctx.db.transaction().execute(async (trx) => {
      const user = await trx.selectFrom('users').select(['id']).where('username', '=', username).executeTakeFirst();
      if (!user) throw new TetherError('NOT_FOUND', `no user named ${username}`);
      await trx.updateTable('users').set({ password_hash: hash, failed_logins: 0, locked_until: null }).where('id', '=', user.id).execute();
      await this.ctx.audit.appendIn(trx, { ...actor, action: 'admin.user.set-password', outcome: 'ok', targetType: 'user', targetId: user.id, detail: { username } });
    });
  }

  /**
   * On first start (no users at all) creates the administrator with a generated password,
   * returned so the caller can show it once. There is no default password anywhere.
   */
  async ensureBootstrapAdmin(): Promise<{ username: string; password: string } | undefined> {
    const any = await this.ctx.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (any) return undefined;
    const password = generatePassword();
    await this.create(
      { username: BOOTSTRAP_ADMIN, displayName: 'Administrator', role: 'admin', password, customerIds: 'all' },
      SYSTEM_ACTOR,
    );
    return { username: BOOTSTRAP_ADMIN, password };
  }
}
