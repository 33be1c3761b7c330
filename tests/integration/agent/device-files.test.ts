import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAuditEntry } from '../../../agent-sim/agent/local-audit.ts';
import { DEVICE_FILES_FOLDER } from '../../../agent-sim/devices/index.ts';
import type { Fleet } from '../../../agent-sim/fleet.ts';
import type { CommandView } from '#contract/api/commands';
import type { SessionView } from '#contract/api/sessions';
import { FILE_COMMANDS } from '#contract/protocol/files';
import type { ScopePolicies } from '#contract/sessions';
import { type SeededDevice, createUser, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import type { ApiClient } from '../../helpers/http.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

const ALLOW: ScopePolicies = { diagnose: 'allow', files: 'allow', tunnel: 'allow', deploy: 'allow' };

/**
 * The device's files through the whole chain: a real server, real agents of the fleet
 * (each device's tree seeded in its agent's data dir), a session with the `files` scope,
 * and `list-files` queued as any privileged command.
 */
describe('device files on simulated equipment', () => {
  let ts: TestServer;
  let fleet: Fleet;
  let engineer: ApiClient;
  let injector: SeededDevice;
  let server: SeededDevice;

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: 5000 });
    const seeded = await seedCustomer(ts, 'Files Hospital', [
      { serial: 'SFX-FI00001', modelId: 'stellant-flex' },
      { serial: 'RAD-FI00002', modelId: 'radimetrics' },
    ]);
    [injector, server] = seeded.devices as [SeededDevice, SeededDevice];
    fleet = await startFleet(ts, seeded.devices, { tickMs: 500 });
    engineer = (await createUser(ts, 'files-eng', 'engineer', [seeded.customer.id])).client;
    for (const d of seeded.devices) await ts.adminClient.put(`/api/v1/devices/${d.id}/consent-policy`, { policies: ALLOW });
    await waitFor(async () => (await ts.adminClient.get<{ counts: { online: number } }>('/api/v1/devices')).body.counts.online === 2, { timeoutMs: 30_000, what: 'agents online' });
  });

  afterAll(async () => {
    await fleet?.stopAll({ goodbye: false });
    await ts?.destroy();
  });

  const session = async (deviceId: string, scopes: string[]) => {
    const res = await engineer.post<SessionView>(`/api/v1/devices/${deviceId}/sessions`, { scopes, reason: 'INC-2001 logs', durationMinutes: 30 });
    expect(res.body.state).toBe('active');
    return res.body.id;
  };

  const run = async (deviceId: string, sessionId: string, name: string, params: Record<string, unknown>): Promise<CommandView> => {
    const queued = await engineer.post<{ id: string }>(`/api/v1/devices/${deviceId}/commands`, { name, params, sessionId });
    expect(queued.status).toBe(202);
    return waitFor(async () => {
      const view = (await engineer.get<CommandView>(`/api/v1/commands/${queued.body.id}`)).body;
      return ['succeeded', 'failed', 'canceled', 'expired'].includes(view.state) ? view : undefined;
    }, { timeoutMs: 20_000, what: `${name} finished` });
  };

  it('lists the seeded tree of each device, kept in its agent\'s data dir', async () => {
    const sessionId = await session(server.id, ['files']);
    const roots = await run(server.id, sessionId, 'list-files', {});
    expect(roots.state).toBe('succeeded');
    expect(FILE_COMMANDS['list-files'].result.parse(roots.result).entries.map((e) => e.path)).toEqual(['/config', '/exports', '/logs', '/service']);

    const logs = FILE_COMMANDS['list-files'].result.parse((await run(server.id, sessionId, 'list-files', { path: '/logs' })).result);
    expect(logs.entries.map((e) => e.name)).toEqual(expect.arrayContaining(['dicom-listener.log', 'dicom-listener.log.1.gz', 'radimetrics-app.log']));
    const member = fleet.get(server.serial);
    expect(member.device.filesDir).toBe(path.join(member.config.dataDir, DEVICE_FILES_FOLDER));
    const onDisk = fs.statSync(path.join(member.config.dataDir, DEVICE_FILES_FOLDER, 'logs', 'dicom-listener.log'));
    expect(logs.entries.find((e) => e.name === 'dicom-listener.log')).toMatchObject({ size: onDisk.size, modifiedAt: onDisk.mtime.toISOString() });
    await engineer.post(`/api/v1/sessions/${sessionId}/end`);
  });

  it('shows the log bundle a diagnostic just collected, and refuses a path outside the roots with the agent\'s own audit', async () => {
    const sessionId = await session(injector.id, ['diagnose', 'files']);
    const bundle = await run(injector.id, sessionId, 'collect-log-bundle', { hours: 1 });
    expect(bundle.state).toBe('succeeded');
    const { fileName, sizeBytes } = bundle.result as { fileName: string; sizeBytes: number };
    const logs = FILE_COMMANDS['list-files'].result.parse((await run(injector.id, sessionId, 'list-files', { path: '/logs' })).result);
    expect(logs.entries).toContainEqual(expect.objectContaining({ name: fileName, path: `/logs/${fileName}`, type: 'file', size: sizeBytes }));

    const refused = await run(injector.id, sessionId, 'list-files', { path: '/etc' });
    expect(refused).toMatchObject({ state: 'failed', error: { code: 'PATH_NOT_ALLOWED' } });
    const auditPath = path.join(fleet.get(injector.serial).config.dataDir, 'audit.jsonl');
    const entries = fs.readFileSync(auditPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LocalAuditEntry);
    expect(entries).toContainEqual(expect.objectContaining({ action: 'files.refused', outcome: 'denied', detail: expect.objectContaining({ path: '/etc', code: 'PATH_NOT_ALLOWED' }) }));
    await engineer.post(`/api/v1/sessions/${sessionId}/end`);
  });
});
