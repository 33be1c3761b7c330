import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair, importPKCS8 } from 'jose';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoginResponse, TokenPair } from '#contract/api/auth';
import type { AuditEntry } from '#contract/api/audit';
import type { ErrorBody } from '#contract/errors';
import { ApiClient } from '../../helpers/http.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import { createUser } from '../../helpers/admin.ts';

describe('technician sign-in', () => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer({ loginRateLimit: { max: 1000, windowMs: 60_000 } });
  });
  afterAll(async () => ts.destroy());

  async function auditActions(filter: string): Promise<AuditEntry[]> {
    const res = await ts.adminClient.get<{ items: AuditEntry[] }>(`/api/v1/audit?action=${filter}&limit=1000`);
    return res.body.items;
  }

  it('creates a bootstrap admin with a generated password on first start only', async () => {
    expect(ts.admin.username).toBe('admin');
    expect(ts.admin.password).toMatch(/^([A-Za-z0-9]{5}-){4}[A-Za-z0-9]{5}$/);
    const me = await ts.adminClient.get<{ username: string; role: string; customerIds: unknown }>('/api/v1/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'admin', role: 'admin', customerIds: 'all' });
  });

  it('answers a wrong password with INVALID_CREDENTIALS and audits the failure', async () => {
    const before = (await auditActions('auth.login')).filter((e) => e.outcome === 'failed').length;
    const res = await ts.anonymous.post<ErrorBody>('/api/v1/auth/login', { username: 'admin', password: 'not-the-password' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    const after = (await auditActions('auth.login')).filter((e) => e.outcome === 'failed');
    expect(after.length).toBe(before + 1);
    expect(after[0]?.detail).toMatchObject({ reason: 'wrong-password' });
    // reset the failure counter for later tests
    await ts.login(ts.admin.username, ts.admin.password);
  });

  it('answers an unknown user exactly like a wrong password', async () => {
    const res = await ts.anonymous.post<ErrorBody>('/api/v1/auth/login', { username: 'nobody', password: 'whatever' });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
  });

  it('locks an account after 5 failures for 15 minutes, refusing even the right password, across a restart', async () => {
    const { password } = await createUser(ts, 'lockme', 'engineer', 'all');
    for (let i = 1; i <= 4; i += 1) {
      const res = await ts.anonymous.post<ErrorBody>('/api/v1/auth/login', { username: 'lockme', password: `wrong-${i}` });
      expect(res.body.error.code).toBe('INVALID_CREDENTIALS');
    }
    const fifth = await ts.anonymous.post<ErrorBody>('/api/v1/auth/login', { username: 'lockme', password: 'wrong-5' });
    expect(fifth.status).toBe(423);
    expect(fifth.body.error.code).toBe('ACCOUNT_LOCKED');
    const retryAfter = Number(fifth.body.error.details?.retryAfterSeconds);
    expect(retryAfter).toBeGreaterThan(14 * 60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(fifth.body.error.message).toMatch(/locked for 15 more minutes/);

    const right = await ts.anonymous.post<ErrorBody>('/api/v1/auth/login', { username: 'lockme', password });
    expect(right.status).toBe(423);

    const lockouts = await auditActions('auth.lockout');
    expect(lockouts.some((e) => e.actorName === 'lockme')).toBe(true);

    // The lock is in the database: a restarted server still refuses.
    const { dataDir, admin } = ts;
    await ts.close();
    ts = await startTestServer({ loginRateLimit: { max: 1000, windowMs: 60_000 } }, { dataDir, admin });
    const afterRestart = await ts.anonymous.post<ErrorBody>('/api/v1/auth/login', { username: 'lockme', password });
    expect(afterRestart.status).toBe(423);
    expect(afterRestart.body.error.code).toBe('ACCOUNT_LOCKED');
  });

  it('rotates refresh tokens and revokes the whole session when a spent one is reused', async () => {
    const login = await ts.anonymous.post<LoginResponse>('/api/v1/auth/login', { username: ts.admin.username, password: ts.admin.password });
    expect(login.status).toBe(200);
    const first = login.body.refreshToken;
    const rotated = await ts.anonymous.post<TokenPair>('/api/v1/auth/refresh', { refreshToken: first });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(first);
    const session = new ApiClient(ts.url, ts.ca, rotated.body.accessToken);
    expect((await session.get('/api/v1/me')).status).toBe(200);

    const reuse = await ts.anonymous.post<ErrorBody>('/api/v1/auth/refresh', { refreshToken: first });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('REFRESH_TOKEN_REUSED');

    // the whole family is gone: the newer refresh token and the access token stop working
    const second = await ts.anonymous.post<ErrorBody>('/api/v1/auth/refresh', { refreshToken: rotated.body.refreshToken });
    expect(second.status).toBe(401);
    expect(second.body.error.code).toBe('REFRESH_TOKEN_INVALID');
    const me = await session.get<ErrorBody>('/api/v1/me');
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('TOKEN_INVALID');
    expect((await auditActions('auth.refresh-reuse')).length).toBeGreaterThan(0);
  });

  it('logout ends the session for both tokens', async () => {
    const login = await ts.anonymous.post<LoginResponse>('/api/v1/auth/login', { username: ts.admin.username, password: ts.admin.password });
    const session = new ApiClient(ts.url, ts.ca, login.body.accessToken);
    const out = await session.post('/api/v1/auth/logout', {});
    expect(out.status).toBe(204);
    expect((await session.get<ErrorBody>('/api/v1/me')).body.error.code).toBe('TOKEN_INVALID');
    const refresh = await ts.anonymous.post<ErrorBody>('/api/v1/auth/refresh', { refreshToken: login.body.refreshToken });
    expect(refresh.body.error.code).toBe('REFRESH_TOKEN_INVALID');
  });

  it('rejects a missing, expired or forged access token with distinct codes', async () => {
    expect((await ts.anonymous.get<ErrorBody>('/api/v1/devices')).body.error.code).toBe('UNAUTHENTICATED');

    const me = await ts.adminClient.get<{ id: string }>('/api/v1/me');
    const realKey = await importPKCS8(readFileSync(join(ts.dataDir, 'keys', 'access-token.key.pem'), 'utf8'), 'EdDSA');
    const expired = await new SignJWT({ sid: 'x', role: 'admin' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .setSubject(me.body.id)
      .setIssuer('tether')
      .setAudience('tether-api')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(realKey);
    const expiredRes = await new ApiClient(ts.url, ts.ca, expired).get<ErrorBody>('/api/v1/me');
    expect(expiredRes.status).toBe(401);
    expect(expiredRes.body.error.code).toBe('TOKEN_EXPIRED');

    const { privateKey: otherKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await new SignJWT({ sid: 'x', role: 'admin' })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' })
      .setSubject(me.body.id)
      .setIssuer('tether')
      .setAudience('tether-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(otherKey);
    const forgedRes = await new ApiClient(ts.url, ts.ca, forged).get<ErrorBody>('/api/v1/me');
    expect(forgedRes.status).toBe(401);
    expect(forgedRes.body.error.code).toBe('TOKEN_INVALID');

    const garbage = await new ApiClient(ts.url, ts.ca, 'not.a.jwt').get<ErrorBody>('/api/v1/me');
    expect(garbage.body.error.code).toBe('TOKEN_INVALID');
  });

  it('rate-limits sign-in attempts with 429', async () => {
    const limited = await startTestServer({ loginRateLimit: { max: 3, windowMs: 60_000 } });
    try {
      // startTestServer signed in once already; two more are allowed, then 429
      const statuses: number[] = [];
      for (let i = 0; i < 4; i += 1) {
        statuses.push((await limited.anonymous.post('/api/v1/auth/login', { username: 'x', password: 'y' })).status);
      }
      expect(statuses).toEqual([401, 401, 429, 429]);
      const res = await limited.anonymous.post<ErrorBody>('/api/v1/auth/login', { username: 'x', password: 'y' });
      expect(res.body.error.code).toBe('RATE_LIMITED');
    } finally {
      await limited.destroy();
    }
  });
});
