import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { AuditVerifyResult } from '#contract/api/audit';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import { createUser, seedCustomer } from '../../helpers/admin.ts';
import { runTs } from '../../helpers/processes.ts';

describe('audit log', () => {
  let ts: TestServer;

  beforeAll(async () => {
    ts = await startTestServer();
    // a handful of audited actions
    await seedCustomer(ts, 'Audit General', [{ serial: 'SFX-AU00001', modelId: 'stellant-flex' }]);
    await createUser(ts, 'auditor', 'viewer', 'all');
    await ts.anonymous.post('/api/v1/auth/login', { username: 'auditor', password: 'wrong' });
  });
  afterAll(async () => ts.destroy());

  const verify = async () => (await ts.adminClient.get<AuditVerifyResult>('/api/v1/audit/verify')).body;

  it('records logins, failures and admin changes, and the chain verifies', async () => {
    const list = await ts.adminClient.get<{ items: { action: string; outcome: string }[] }>('/api/v1/audit?limit=100');
    const actions = list.body.items.map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(expect.arrayContaining(['auth.login:ok', 'auth.login:failed', 'admin.customer.create:ok', 'admin.site.create:ok', 'admin.device.create:ok', 'admin.user.create:ok']));
    const result = await verify();
    expect(result.ok).toBe(true);
    expect(result.checked).toBeGreaterThanOrEqual(actions.length);
  });

  it('is readable only by administrators', async () => {
    const viewer = await ts.login('auditor', 'pw-auditor-correct-horse');
    const res = await viewer.get<{ error: { code: string } }>('/api/v1/audit');
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });

  it('names the first altered entry, then a deleted one, then a truncated tail — via API and CLI', async () => {
    const db = ts.server.ctx.db;
    const good = await verify();
    expect(good.ok).toBe(true);

    // alter entry 3's detail
    const original = await db.selectFrom('audit_log').selectAll().where('seq', '=', 3).executeTakeFirstOrThrow();
    await db.updateTable('audit_log').set({ detail: '{"name":"Someone Else"}' }).where('seq', '=', 3).execute();
    const altered = await verify();
    expect(altered).toMatchObject({ ok: false, firstBadSeq: 3 });
    expect(altered.reason).toMatch(/altered/);

    const cli = await runTs('server/main.ts', ['audit', 'verify', '--data-dir', ts.dataDir]);
    expect(cli.code).toBe(1);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: false, firstBadSeq: 3 });
    expect(cli.stderr).toMatch(/broken at entry 3/);

    // restore it, then delete entry 5
    await db.updateTable('audit_log').set({ detail: original.detail }).where('seq', '=', 3).execute();
    expect((await verify()).ok).toBe(true);
    const fifth = await db.selectFrom('audit_log').selectAll().where('seq', '=', 5).executeTakeFirstOrThrow();
    await db.deleteFrom('audit_log').where('seq', '=', 5).execute();
    const deleted = await verify();
    expect(deleted).toMatchObject({ ok: false, firstBadSeq: 5 });
    expect(deleted.reason).toMatch(/missing/);
    await db.insertInto('audit_log').values(fifth).execute();
    expect((await verify()).ok).toBe(true);

    // remove the newest entry: the chain alone looks fine, the recorded head does not
    const head = Number((await db.selectFrom('audit_log').select(sql<number>`max(seq)`.as('m')).executeTakeFirstOrThrow()).m);
    await db.deleteFrom('audit_log').where('seq', '=', head).execute();
    const truncated = await verify();
    expect(truncated).toMatchObject({ ok: false, firstBadSeq: head });
    expect(truncated.reason).toMatch(/recorded head/);
  });
});
