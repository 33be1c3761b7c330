import { randomUUID } from 'node:crypto';
import { TetherError } from '#contract/errors';
import type { LoginResponse, TokenPair, User } from '#contract/api/auth';
import type { ServerContext } from '../context.ts';
import type { Principal } from '../access/principal.ts';
import type { UserRow } from '../store/schema.ts';
import { decoyPasswordHash, verifyPassword } from './passwords.ts';
import { hashOpaqueToken, newRefreshToken } from './tokens.ts';

/** Where a request came from, for the audit log. */
export interface RequestOrigin {
  ip: string | null;
}

/**
 * Technician sign-in: password check with a persistent lockout, short-lived access
 * tokens and rotating refresh tokens. A refresh token is good once; presenting a used one
 * means it was copied, so its whole family (the login session) is revoked.
 */
export class AuthService {
  constructor(private readonly ctx: ServerContext) {}

  async login(username: string, password: string, origin: RequestOrigin): Promise<LoginResponse> {
    const { db, audit, config } = this.ctx;
    const now = Date.now();
    const user = await db.selectFrom('users').selectAll().where('username', '=', username.toLowerCase()).executeTakeFirst();
    if (!user) {
      await verifyPassword(password, await decoyPasswordHash());
      await audit.append({
        actorType: 'anonymous',
        actorName: username.slice(0, 64),
        action: 'auth.login',
        outcome: 'failed',
        ip: origin.ip,
        detail: { reason: 'unknown-user' },
      });
      throw invalidCredentials();
    }
    if (user.locked_until !== null && Number(user.locked_until) > now) {
      await audit.append({
        ...actorOf(user),
        action: 'auth.login',
        outcome: 'denied',
        ip: origin.ip,
        detail: { reason: 'locked' },
      });
      throw lockedError(Number(user.locked_until), now);
    }
    if (user.disabled) {
      await audit.append({ ...actorOf(user), action: 'auth.login', outcome: 'denied', ip: origin.ip, detail: { reason: 'disabled' } });
      throw new TetherError('ACCOUNT_DISABLED', 'this account is disabled; ask an administrator');
    }

    if (!(await verifyPassword(password, user.password_hash))) {
      const lockedUntil = await db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('users')
          .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1) }))
          .where('id', '=', user.id)
          .returning(['failed_logins'])
          .executeTakeFirstOrThrow();
        await audit.appendIn(trx, {
          ...actorOf(user),
          action: 'auth.login',
          outcome: 'failed',
          ip: origin.ip,
          detail: { reason: 'wrong-password', failedAttempts: row.failed_logins },
        });
        if (row.failed_logins < config.maxFailedLogins) return undefined;
        const until = now + Math.round(config.lockoutMinutes * 60_000);
        await trx.updateTable('users').set({ failed_logins: 0, locked_until: until }).where('id', '=', user.id).execute();
        await audit.appendIn(trx, {
          ...actorOf(user),
          action: 'auth.lockout',
          outcome: 'denied',
          ip: origin.ip,
          detail: { failedAttempts: row.failed_logins, lockedUntil: new Date(until).toISOString() },
        });
        return until;
      });
      if (lockedUntil !== undefined) throw lockedError(lockedUntil, now);
      throw invalidCredentials();
    }

    const tokens = await db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ failed_logins: 0, locked_until: null }).where('id', '=', user.id).execute();
      const familyId = randomUUID();
      await trx.insertInto('token_families').values({ id: familyId, user_id: user.id, created_at: now, revoked_at: null, revoke_reason: null }).execute();
      const refresh = newRefreshToken();
      await trx
        .insertInto('refresh_tokens')
        .values({ id: randomUUID(), family_id: familyId, token_hash: refresh.hash, created_at: now, expires_at: now + config.refreshTokenTtlSeconds * 1000, used_at: null })
        .execute();
      await audit.appendIn(trx, { ...actorOf(user), action: 'auth.login', outcome: 'ok', ip: origin.ip, detail: { session: familyId } });
      return { familyId, refreshToken: refresh.token };
    });
    return {
      ...(await this.tokenPair(user, tokens.familyId, tokens.refreshToken)),
      user: await this.userView(user),
    };
  }

  /** Rotates a refresh token: the old one is spent, a new one in the same family returned. */
  async refresh(refreshToken: string, origin: RequestOrigin): Promise<TokenPair> {
    const { db, audit, config } = this.ctx;
    const now = Date.now();
    const hash = hashOpaqueToken(refreshToken);
    const outcome = await db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('refresh_tokens as t')
        .innerJoin('token_families as f', 'f.id', 't.family_id')
        .innerJoin('users as u', 'u.id', 'f.user_id')
        .select(['t.id as tokenId', 't.used_at', 't.expires_at', 'f.id as familyId', 'f.revoked_at', 'u.id as userId'])
        .where('t.token_hash', '=', hash)
        .executeTakeFirst();
      if (!row) return { error: new TetherError('REFRESH_TOKEN_INVALID', 'refresh token is not valid; sign in again') } as const;
      const user = await trx.selectFrom('users').selectAll().where('id', '=', row.userId).executeTakeFirstOrThrow();
      if (row.revoked_at !== null) {
        return { error: new TetherError('REFRESH_TOKEN_INVALID', 'this session has ended; sign in again') } as const;
      }
      const spent = row.used_at !== null
        || (await trx.updateTable('refresh_tokens').set({ used_at: now }).where('id', '=', row.tokenId).where('used_at', 'is', null).executeTakeFirst()).numUpdatedRows === 0n;
      if (spent) {
        await trx.updateTable('token_families').set({ revoked_at: now, revoke_reason: 'refresh-token-reuse' }).where('id', '=', row.familyId).execute();
        await audit.appendIn(trx, {
          ...actorOf(user),
          action: 'auth.refresh-reuse',
          outcome: 'denied',
          ip: origin.ip,
          detail: { session: row.familyId, note: 'a spent refresh token was presented; session revoked' },
        });
        return { revokedFamily: row.familyId, error: new TetherError('REFRESH_TOKEN_REUSED', 'this refresh token was already used; the session has been ended for safety — sign in again') } as const;
      }
      if (Number(row.expires_at) <= now) {
        return { error: new TetherError('REFRESH_TOKEN_INVALID', 'refresh token has expired; sign in again') } as const;
      }
      if (user.disabled) return { error: new TetherError('ACCOUNT_DISABLED', 'this account is disabled') } as const;
      const next = newRefreshToken();
      await trx
        .insertInto('refresh_tokens')
        .values({ id: randomUUID(), family_id: row.familyId, token_hash: next.hash, created_at: now, expires_at: now + config.refreshTokenTtlSeconds * 1000, used_at: null })
        .execute();
      return { user, familyId: row.familyId, refreshToken: next.token } as const;
    });
    if ('revokedFamily' in outcome && outcome.revokedFamily) this.ctx.bus.publish('auth.revoked', { familyId: outcome.revokedFamily });
    if ('error' in outcome) throw outcome.error;
    return this.tokenPair(outcome.user, outcome.familyId, outcome.refreshToken);
  }

  /** Ends the caller's login session: refresh tokens and access tokens of it stop working. */
  async logout(principal: Principal, origin: RequestOrigin): Promise<void> {
    const now = Date.now();
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('token_families')
        .set({ revoked_at: now, revoke_reason: 'logout' })
        .where('id', '=', principal.familyId)
        .where('revoked_at', 'is', null)
        .execute();
      await this.ctx.audit.appendIn(trx, {
        actorType: 'user',
        actorId: principal.id,
        actorName: principal.username,
        action: 'auth.logout',
        outcome: 'ok',
        ip: origin.ip,
        detail: { session: principal.familyId },
      });
    });
    this.ctx.bus.publish('auth.revoked', { familyId: principal.familyId });
  }

  /** Resolves a bearer token to a principal: valid signature, live session, enabled user. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match?.[1]) throw new TetherError('UNAUTHENTICATED', 'sign in first: this needs an access token (Authorization: Bearer …)');
    return this.authenticateToken(match[1]);
  }

  async authenticateToken(token: string): Promise<Principal> {
    const claims = await this.ctx.tokens.verify(token);
    const row = await this.ctx.db
      .selectFrom('token_families as f')
      .innerJoin('users as u', 'u.id', 'f.user_id')
      .select(['u.id', 'u.username', 'u.display_name', 'u.role', 'u.all_customers', 'u.disabled', 'f.revoked_at'])
      .where('f.id', '=', claims.familyId)
      .where('u.id', '=', claims.userId)
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) throw new TetherError('TOKEN_INVALID', 'this session has ended; sign in again');
    if (row.disabled) throw new TetherError('ACCOUNT_DISABLED', 'this account is disabled');
    const customers = row.all_customers ? 'all' as const : new Set(await this.customerIds(row.id));
    return { id: row.id, username: row.username, displayName: row.display_name, role: row.role, customers, familyId: claims.familyId, tokenExpiresAt: claims.expiresAt ?? 0 };
  }

  async userView(user: Pick<UserRow, 'id' | 'username' | 'display_name' | 'role' | 'all_customers'>): Promise<User> {
    return {
      id: user.id,
      username: user.username,
      displayName: user.display_name,
      role: user.role,
      customerIds: user.all_customers ? 'all' : await this.customerIds(user.id),
    };
  }

  private async customerIds(userId: string): Promise<string[]> {
    const rows = await this.ctx.db.selectFrom('user_customers').select('customer_id').where('user_id', '=', userId).execute();
    return rows.map((r) => r.customer_id);
  }

  private async tokenPair(user: Pick<UserRow, 'id' | 'role'>, familyId: string, refreshToken: string): Promise<TokenPair> {
    const accessToken = await this.ctx.tokens.sign({ userId: user.id, familyId, role: user.role });
    return { accessToken, refreshToken, expiresIn: this.ctx.tokens.expiresIn };
  }
}

function actorOf(user: Pick<UserRow, 'id' | 'username'>) {
  return { actorType: 'user' as const, actorId: user.id, actorName: user.username };
}

function invalidCredentials(): TetherError {
  return new TetherError('INVALID_CREDENTIALS', 'wrong username or password');
}

function lockedError(lockedUntil: number, now: number): TetherError {
  const retryAfterSeconds = Math.max(1, Math.ceil((lockedUntil - now) / 1000));
  const minutes = Math.ceil(retryAfterSeconds / 60);
  return new TetherError(
    'ACCOUNT_LOCKED',
    `too many failed sign-ins: this account is locked for ${minutes} more minute${minutes === 1 ? '' : 's'}`,
    { lockedUntil: new Date(lockedUntil).toISOString(), retryAfterSeconds },
  );
}
