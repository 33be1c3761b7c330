import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../../agent-sim/fleet.ts';
import type { AuditEntry } from '#contract/api/audit';
import type { Alarm, DeviceDetail, DeviceEvent, DeviceListResponse } from '#contract/api/fleet';
import type { ErrorBody } from '#contract/errors';
import { type SeededDevice, createUser, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import type { ApiClient } from '../../helpers/http.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

describe('alarm lifecycle through real agents', () => {
  let ts: TestServer;
  let fleet: Fleet;
  let injector: SeededDevice;
  let radimetrics: SeededDevice;
  let engineerA: ApiClient;
  let viewerA: ApiClient;
  let engineerB: ApiClient;
  /** The PRESSURE_LIMIT alarm the first fault raised, followed through the tests. */
  let first: Alarm;

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: 5_000 });
    const a = await seedCustomer(ts, 'Alarm Alpha Hospital', [
      { serial: 'ALM-A-0001', modelId: 'stellant-flex' },
      { serial: 'ALM-A-0002', modelId: 'radimetrics' },
    ]);
    const b = await seedCustomer(ts, 'Alarm Beta Clinic', [{ serial: 'ALM-B-0001', modelId: 'stellant-flex' }]);
    [injector, radimetrics] = a.devices as [SeededDevice, SeededDevice];
    // 250 ms ticks: the injector repeats PRESSURE_LIMIT every 5 ticks, so a new alarm stays at count 1 for over a second.
    fleet = await startFleet(ts, [...a.devices, ...b.devices], { tickMs: 250 });
    engineerA = (await createUser(ts, 'alm-eng-a', 'engineer', [a.customer.id])).client;
    viewerA = (await createUser(ts, 'alm-view-a', 'viewer', [a.customer.id])).client;
    engineerB = (await createUser(ts, 'alm-eng-b', 'engineer', [b.customer.id])).client;
    await waitFor(async () => (await ts.adminClient.get<DeviceListResponse>('/api/v1/devices?status=online')).body.total === 3, {
      timeoutMs: 20_000,
      what: 'all three agents online',
    });
  });

  afterAll(async () => {
    await fleet?.stopAll({ goodbye: false });
    await ts?.destroy();
  });

  async function alarmsOf(deviceId: string, state: 'open' | 'all' = 'open'): Promise<Alarm[]> {
    const res = await engineerA.get<{ items: Alarm[] }>(`/api/v1/devices/${deviceId}/alarms?state=${state}`);
    expect(res.status).toBe(200);
    return res.body.items;
  }

  async function eventsOf(deviceId: string): Promise<DeviceEvent[]> {
    return (await engineerA.get<{ items: DeviceEvent[] }>(`/api/v1/devices/${deviceId}/events?limit=1000`)).body.items;
  }

  async function alarmById(deviceId: string, alarmId: string): Promise<Alarm | undefined> {
    return (await alarmsOf(deviceId, 'all')).find((a) => a.id === alarmId);
  }

  it('raises PRESSURE_LIMIT as an active major alarm when a pressure fault is injected', async () => {
    await fleet.inject(injector.serial, 'pressure-fault');
    first = await waitFor(async () => (await alarmsOf(injector.id)).find((a) => a.code === 'PRESSURE_LIMIT'), {
      timeoutMs: 10_000,
      what: 'PRESSURE_LIMIT to be raised',
    });
    expect(first).toMatchObject({ deviceId: injector.id, severity: 'major', state: 'active', acknowledgedBy: null, closedAt: null });
    expect(first.message).toMatch(/psi/);

    const detail = await engineerA.get<DeviceDetail>(`/api/v1/devices/${injector.id}`);
    expect(detail.body.alarms.map((a) => a.id)).toContain(first.id);
    expect(detail.body.openAlarms).toBeGreaterThanOrEqual(1);

    const list = await engineerA.get<DeviceListResponse>('/api/v1/devices');
    expect(list.body.items.find((d) => d.id === injector.id)?.openAlarms).toBeGreaterThanOrEqual(1);

    const raised = (await eventsOf(injector.id)).filter((e) => e.type === 'alarm.raised');
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({ severity: 'error', data: { code: 'PRESSURE_LIMIT', severity: 'major' } });
  });

  it('counts repeats of a held fault on the one open alarm instead of opening duplicates', async () => {
    const repeated = await waitFor(async () => {
      const alarm = await alarmById(injector.id, first.id);
      return alarm && alarm.count > 1 ? alarm : undefined;
    }, { timeoutMs: 10_000, what: 'the alarm count to rise' });
    expect(Date.parse(repeated.lastAt)).toBeGreaterThan(Date.parse(repeated.firstAt));

    const withCode = (await alarmsOf(injector.id, 'all')).filter((a) => a.code === 'PRESSURE_LIMIT');
    expect(withCode.map((a) => a.id)).toEqual([first.id]);
    expect((await eventsOf(injector.id)).filter((e) => e.type === 'alarm.raised')).toHaveLength(1);
  });

  it('lets neither a viewer (403) nor an engineer of another customer (404) acknowledge it', async () => {
    const byViewer = await viewerA.post<ErrorBody>(`/api/v1/alarms/${first.id}/acknowledge`);
    expect(byViewer.status).toBe(403);
    expect(byViewer.body.error.code).toBe('FORBIDDEN');

    const byOutsider = await engineerB.post<ErrorBody>(`/api/v1/alarms/${first.id}/acknowledge`);
    expect(byOutsider.status).toBe(404);
    expect(byOutsider.body.error.code).toBe('NOT_FOUND');

    expect((await alarmById(injector.id, first.id))?.state).toBe('active');
  });

  it('records who acknowledged it, audits it once, and treats a second acknowledgement as a no-op', async () => {
    const ack = await engineerA.post<Alarm>(`/api/v1/alarms/${first.id}/acknowledge`);
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ id: first.id, state: 'acknowledged', acknowledgedBy: 'alm-eng-a', closedAt: null });
    expect(ack.body.acknowledgedAt).not.toBeNull();

    const again = await engineerA.post<Alarm>(`/api/v1/alarms/${first.id}/acknowledge`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'alm-eng-a', acknowledgedAt: ack.body.acknowledgedAt });

    const audit = await ts.adminClient.get<{ items: AuditEntry[] }>('/api/v1/audit?action=alarm.acknowledge&limit=1000');
    const entries = audit.body.items.filter((e) => e.detail?.alarmId === first.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actorName: 'alm-eng-a', outcome: 'ok', targetType: 'device', targetId: injector.id, detail: { code: 'PRESSURE_LIMIT' } });

    // The fault still holds: repeats keep counting, and the acknowledgement stands.
    const counted = await waitFor(async () => {
      const alarm = await alarmById(injector.id, first.id);
      return alarm && alarm.count > ack.body.count ? alarm : undefined;
    }, { timeoutMs: 10_000, what: 'a repeat after the acknowledgement' });
    expect(counted).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'alm-eng-a' });
  });

  it('closes the alarm when the fault clears, after which it can no longer be acknowledged', async () => {
    fleet.clear(injector.serial);
    const closed = await waitFor(async () => {
      const alarm = await alarmById(injector.id, first.id);
      return alarm?.state === 'closed' ? alarm : undefined;
    }, { timeoutMs: 10_000, what: 'the alarm to close' });
    expect(closed.closedAt).not.toBeNull();
    expect(closed.acknowledgedBy).toBe('alm-eng-a');

    const detail = await engineerA.get<DeviceDetail>(`/api/v1/devices/${injector.id}`);
    expect(detail.body.alarms.map((a) => a.id)).not.toContain(first.id);
    expect(detail.body.openAlarms).toBe(0);
    expect((await eventsOf(injector.id)).filter((e) => e.type === 'alarm.cleared')).toEqual([
      expect.objectContaining({ severity: 'info', data: { code: 'PRESSURE_LIMIT' } }),
    ]);

    const late = await engineerA.post<ErrorBody>(`/api/v1/alarms/${first.id}/acknowledge`);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('CONFLICT');
  });

  it('opens a new alarm, counting from one, when the fault comes back after the alarm closed', async () => {
    await fleet.inject(injector.serial, 'pressure-fault');
    const reopened = await waitFor(async () => (await alarmsOf(injector.id)).find((a) => a.code === 'PRESSURE_LIMIT'), {
      timeoutMs: 10_000,
      intervalMs: 10,
      what: 'PRESSURE_LIMIT to be raised again',
    });
    expect(reopened.id).not.toBe(first.id);
    expect(reopened).toMatchObject({ state: 'active', count: 1, acknowledgedBy: null, closedAt: null });
    expect((await alarmById(injector.id, first.id))?.state).toBe('closed');
    expect((await eventsOf(injector.id)).filter((e) => e.type === 'alarm.raised')).toHaveLength(2);
    fleet.clear(injector.serial);
  });

  it('raises SERVICE_DOWN as critical when a Radimetrics service stops', async () => {
    await fleet.inject(radimetrics.serial, 'service-down');
    const alarm = await waitFor(async () => (await alarmsOf(radimetrics.id)).find((a) => a.code === 'SERVICE_DOWN'), {
      timeoutMs: 10_000,
      what: 'SERVICE_DOWN to be raised',
    });
    expect(alarm).toMatchObject({ severity: 'critical', state: 'active' });
    expect(alarm.message).toMatch(/DICOM listener/);
    const detail = await engineerA.get<DeviceDetail>(`/api/v1/devices/${radimetrics.id}`);
    expect(detail.body.dataItems.find((i) => i.key === 'service.dicomListener')?.value).toBe('stopped');
    fleet.clear(radimetrics.serial);
  });
});
