import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../../agent-sim/fleet.ts';
import type { LoginResponse } from '../../../src/shared/api/auth.ts';
import type { AuditEntry, AuditVerifyResult } from '../../../src/shared/api/audit.ts';
import type { CommandView } from '../../../src/shared/api/commands.ts';
import type { DeviceDetail } from '../../../src/shared/api/fleet.ts';
import { ApiClient } from '../../helpers/http.ts';
import { spawnTs, stopChild, waitForLine } from '../../helpers/processes.ts';
import { tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The server as its own process, so it can be killed with SIGKILL like a crashed host. */
describe('kill -9 of the server loses nothing that was acknowledged', () => {
  const dataDir = tempDir();
  let port: number;
  let server: ChildProcess;
  let url: string;
  let ca: string;
  let password: string;
  let admin: ApiClient;
  let fleet: Fleet | undefined;

  async function startServer(): Promise<void> {
    server = spawnTs('server/main.ts', ['--data-dir', dataDir, '--port', String(port), '--poll-window-ms', '5000', '--log-level', 'info']);
    let output = '';
    server.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    await waitForLine(server, (line) => line.includes('tether server listening'));
    const pw = /password: (\S+)/.exec(output);
    if (pw?.[1]) password = pw[1];
    url = `https://127.0.0.1:${port}`;
    ca = readFileSync(join(dataDir, 'pki', 'ca.cert.pem'), 'utf8');
    const login = await new ApiClient(url, ca).post<LoginResponse>('/api/v1/auth/login', { username: 'admin', password });
    expect(login.status).toBe(200);
    admin = new ApiClient(url, ca, login.body.accessToken);
  }

  async function crashServer(): Promise<void> {
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));
  }

  beforeAll(async () => {
    port = await freePort();
    await startServer();
  });

  afterAll(async () => {
    await fleet?.stopAll({ goodbye: false });
    await stopChild(server);
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
