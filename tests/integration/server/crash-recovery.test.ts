import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../../agent-sim/fleet.ts';
import type { AuditEntry, AuditVerifyResult } from '#contract/api/audit';
import type { CommandView } from '#contract/api/commands';
import type { DeviceDetail } from '#contract/api/fleet';
import type { ApiClient } from '../../helpers/http.ts';
import { ServerProcess } from '../../helpers/server-process.ts';
import { tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';



/** The server as its own process, so it can be killed with SIGKILL like a crashed host. */
describe('kill -9 of the server loses nothing that was acknowledged', () => {
  let server: ServerProcess;
  let url: string;
  let ca: string;
  let admin: ApiClient;
  let fleet: Fleet | undefined;

  async function startServer(): Promise<void> {
    await server.restart();
    ({ url, ca } = server);
    admin = await server.admin();
  }

  async function crashServer(): Promise<void> {
    await server.kill9();
  }

  beforeAll(async () => {
    server = await ServerProcess.start(['--poll-window-ms', '5000']);
    ({ url, ca } = server);
    admin = await server.admin();
  });

  afterAll(async () => {
    await fleet?.stopAll({ goodbye: false });
    await server.stop();
  });

  it('keeps queued commands, their history and the audit chain across a crash, then delivers them', async () => {
    const customer = await admin.post<{ id: string }>('/api/v1/customers', { name: 'Crash General', region: 'uk', country: 'GB' });
    const site = await admin.post<{ id: string }>('/api/v1/sites', { customerId: customer.body.id, name: 'Imaging', city: 'Leeds', country: 'GB', timezone: 'Europe/London' });
    const device = await admin.post<{ deviceId: string; enrollmentCode: string }>('/api/v1/devices', { siteId: site.body.id, modelId: 'radimetrics', serial: 'RAD-CR00001' });
    const ids: string[] = [];
    for (const echo of ['one', 'two', 'three']) {
      const queued = await admin.post<{ id: string }>(`/api/v1/devices/${device.body.deviceId}/commands`, { name: 'ping', params: { echo } });
      expect(queued.status).toBe(202);
      ids.push(queued.body.id);
    }
    const auditBefore = (await admin.get<{ items: AuditEntry[] }>('/api/v1/audit?limit=1000')).body.items;

    await crashServer();
    await startServer();

    for (const id of ids) {
      const view = await admin.get<CommandView>(`/api/v1/commands/${id}`);
      expect(view.body.state).toBe('queued');
      expect(view.body.history.map((h) => h.state)).toEqual(['queued']);
    }
    const auditAfter = (await admin.get<{ items: AuditEntry[] }>('/api/v1/audit?limit=1000')).body.items;
    const seqsAfter = new Set(auditAfter.map((e) => e.seq));
    expect(auditBefore.every((e) => seqsAfter.has(e.seq))).toBe(true);
    expect((await admin.get<AuditVerifyResult>('/api/v1/audit/verify')).body.ok).toBe(true);

    fleet = new Fleet({
      agent: { serverUrl: url, serverCaPem: ca, backoff: { baseMs: 50, maxMs: 500 }, dataFlushMs: 50 },
      dataDir: join(tempDir('tether-agents-'), 'agents'),
      log: pino({ level: 'silent' }),
      tickMs: 500,
    });
    await fleet.add([{ serial: 'RAD-CR00001', modelId: 'radimetrics', enrollmentCode: device.body.enrollmentCode }]);
    fleet.startAll();
    const results = await waitFor(async () => {
      const views = await Promise.all(ids.map(async (id) => (await admin.get<CommandView>(`/api/v1/commands/${id}`)).body));
      return views.every((v) => v.state === 'succeeded') ? views : undefined;
    }, { timeoutMs: 30_000, what: 'commands delivered after restart' });
    expect(results.map((v) => (v.result as { echo: string }).echo)).toEqual(['one', 'two', 'three']);
  });

  it('finishes a command that was running on the device while the server was down', async () => {
    const device = (await admin.get<{ items: DeviceDetail[] }>('/api/v1/devices')).body.items[0]!;
    const queued = await admin.post<{ id: string }>(`/api/v1/devices/${device.id}/commands`, { name: 'ping', params: { delayMs: 1500, echo: 'survived' } });
    await waitFor(async () => (await admin.get<CommandView>(`/api/v1/commands/${queued.body.id}`)).body.state === 'running', { what: 'command running' });
    await crashServer();
    await startServer();
    const view = await waitFor(async () => {
      const v = (await admin.get<CommandView>(`/api/v1/commands/${queued.body.id}`)).body;
      return v.state === 'succeeded' ? v : undefined;
    }, { timeoutMs: 30_000, what: 'result reported to the restarted server' });
    expect(view.result).toMatchObject({ echo: 'survived' });
    expect(view.attempts).toBe(1);
    expect((await admin.get<AuditVerifyResult>('/api/v1/audit/verify')).body.ok).toBe(true);
  });
});
