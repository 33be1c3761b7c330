import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../../agent-sim/fleet.ts';
import type { AuditEntry, AuditVerifyResult } from '#contract/api/audit';
import type { SessionView } from '#contract/api/sessions';
import type { ApiClient } from '../../helpers/http.ts';
import { ServerProcess } from '../../helpers/server-process.ts';
import { tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

/** The server as its own process, killed with SIGKILL in the middle of an active session. */
describe('kill -9 of the server during an active session', () => {
  let server: ServerProcess;
  let admin: ApiClient;
  let fleet: Fleet;
  let deviceId: string;

  beforeAll(async () => {
    server = await ServerProcess.start(['--poll-window-ms', '3000']);
    admin = await server.admin();
    const customer = await admin.post<{ id: string }>('/api/v1/customers', { name: 'Crash Session Clinic', region: 'au', country: 'AU' });
    const site = await admin.post<{ id: string }>('/api/v1/sites', { customerId: customer.body.id, name: 'CT', city: 'Perth', country: 'AU', timezone: 'Australia/Perth' });
    const device = await admin.post<{ deviceId: string; enrollmentCode: string }>('/api/v1/devices', { siteId: site.body.id, modelId: 'stellant-flex', serial: 'SFX-KS00001' });
    deviceId = device.body.deviceId;
    await admin.put(`/api/v1/customers/${customer.body.id}/consent-policy`, { policies: { diagnose: 'allow', files: 'allow', tunnel: 'allow', deploy: 'allow' } });
    fleet = new Fleet({
      agent: { serverUrl: server.url, serverCaPem: server.ca, backoff: { baseMs: 100, maxMs: 1000 }, dataFlushMs: 50 },
      dataDir: join(tempDir('tether-agents-'), 'agents'),
      log: pino({ level: 'silent' }),
      tickMs: 500,
    });
    await fleet.add([{ serial: 'SFX-KS00001', modelId: 'stellant-flex', enrollmentCode: device.body.enrollmentCode }]);
    fleet.startAll();
    await waitFor(async () => (await admin.get<{ status: string }>(`/api/v1/devices/${deviceId}`)).body.status === 'online', { timeoutMs: 20_000 });
  });

  afterAll(async () => {
    await fleet?.stopAll({ goodbye: false });
    await server?.stop();
  });

  it('keeps the session, its timeline and the audit chain, and still ends it at its expiry', async () => {
    const requested = await admin.post<SessionView>(`/api/v1/devices/${deviceId}/sessions`, { scopes: ['diagnose'], reason: 'INC-2001 crash drill', durationMinutes: 1 });
    expect(requested.body.state).toBe('active');
    const before = requested.body;

    await server.kill9();
    await server.restart();
    admin = await server.admin();

    const after = (await admin.get<SessionView>(`/api/v1/sessions/${before.id}`)).body;
    expect(after).toMatchObject({ state: 'active', expiresAt: before.expiresAt, scopes: ['diagnose'], reason: 'INC-2001 crash drill' });
    expect(after.timeline).toEqual(before.timeline);
    expect((await admin.get<AuditVerifyResult>('/api/v1/audit/verify')).body.ok).toBe(true);
    const audited = (await admin.get<{ items: AuditEntry[] }>('/api/v1/audit?action=session.request')).body.items;
    expect(audited.some((e) => e.detail?.sessionId === before.id)).toBe(true);

    // the restarted server's sweep still ends it when its minute is up
    const ended = await waitFor(async () => {
      const view = (await admin.get<SessionView>(`/api/v1/sessions/${before.id}`)).body;
      return view.state === 'ended' ? view : undefined;
    }, { timeoutMs: 90_000, intervalMs: 500, what: 'the session to expire' });
    expect(ended.endCause).toBe('EXPIRED');
    expect(Date.parse(ended.endedAt!)).toBeGreaterThanOrEqual(Date.parse(before.expiresAt!));
    expect(Date.parse(ended.endedAt!) - Date.parse(before.expiresAt!)).toBeLessThan(5000);
  }, 150_000);
});
