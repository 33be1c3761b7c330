import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Agent } from '../../../agent-sim/agent/agent.ts';
import type { Fleet } from '../../../agent-sim/fleet.ts';
import type { Customer, DeviceDetail, DeviceEvent, DeviceListResponse, HistoryResponse } from '#contract/api/fleet';
import { type SeededDevice, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

/** Poll window 300 ms, missing after 2 windows + 200 ms grace: a silent device is missing within a second. */
const TIMINGS = { pollWindowMs: 300, missedPollsBeforeMissing: 2, statusGraceMs: 200, statusSweepMs: 50 } as const;
/** The server's history pruner runs every 10 s. */
const PRUNE_WAIT_MS = 15_000;

describe('device status and data items with real agents', () => {
  let ts: TestServer;
  let fleet: Fleet;
  let alpha: Customer;
  let beta: Customer;
  let missing: SeededDevice;
  let signedOff: SeededDevice;
  let reporting: SeededDevice;
  let historian: SeededDevice;
  let allSerials: string[];

  beforeAll(async () => {
    ts = await startTestServer({ ...TIMINGS, historyPerDataItem: 10 });
    const a = await seedCustomer(ts, 'Status Alpha Hospital', [
      { serial: 'STA-A-MISS', modelId: 'stellant-flex' },
      { serial: 'STA-A-BYE', modelId: 'mrxperion' },
      { serial: 'STA-A-DATA', modelId: 'stellant-flex' },
      { serial: 'STA-A-HIST', modelId: 'mark7-arterion' },
      { serial: 'STA-A-RAD', modelId: 'radimetrics' },
    ]);
    const b = await seedCustomer(ts, 'Status Beta Clinic', [
      { serial: 'STA-B-0001', modelId: 'stellant-flex' },
      { serial: 'STA-B-0002', modelId: 'radimetrics' },
    ]);
    alpha = a.customer;
    beta = b.customer;
    [missing, signedOff, reporting, historian] = a.devices as [SeededDevice, SeededDevice, SeededDevice, SeededDevice];
    allSerials = [...a.devices, ...b.devices].map((d) => d.serial).sort();
    fleet = await startFleet(ts, [...a.devices, ...b.devices], { tickMs: 50 });
    await waitFor(async () => (await list('status=online')).total === 7, { timeoutMs: 20_000, what: 'all seven agents online' });
  });

  afterAll(async () => {
    await fleet?.stopAll({ goodbye: false });
    await ts?.destroy();
  });

  async function list(query = ''): Promise<DeviceListResponse> {
    const res = await ts.adminClient.get<DeviceListResponse>(`/api/v1/devices?${query}`);
    expect(res.status, query).toBe(200);
    return res.body;
  }

  async function detail(deviceId: string): Promise<DeviceDetail> {
    const res = await ts.adminClient.get<DeviceDetail>(`/api/v1/devices/${deviceId}`);
    expect(res.status).toBe(200);
    return res.body;
  }

  async function eventTypes(deviceId: string): Promise<string[]> {
    const res = await ts.adminClient.get<{ items: DeviceEvent[] }>(`/api/v1/devices/${deviceId}/events?limit=1000`);
    // newest first on the wire; oldest first here, as a timeline reads
    return res.body.items.map((e) => e.type).reverse();
  }

  async function history(deviceId: string, key: string): Promise<HistoryResponse['points']> {
    const res = await ts.adminClient.get<HistoryResponse>(`/api/v1/devices/${deviceId}/data-items/${key}/history?limit=5000`);
    expect(res.status).toBe(200);
    return res.body.points;
  }

  it('shows a device that said goodbye as offline and one that fell silent as missing', async () => {
    await fleet.get(signedOff.serial).agent.stop({ goodbye: true });
    const offline = await detail(signedOff.id);
    expect(offline.status).toBe('offline');
    // Let the silent device's last contact come after the goodbye: once it is missing, the
    // signed-off device is past the missing threshold too.
    await waitFor(async () => Date.parse((await detail(missing.id)).lastContactAt ?? '') > Date.parse(offline.lastContactAt ?? ''), {
      what: 'a contact from the device about to fall silent',
    });
    await fleet.get(missing.serial).agent.stop({ goodbye: false });

    await waitFor(async () => (await detail(missing.id)).status === 'missing', { timeoutMs: 10_000, what: 'the silent device to go missing' });
    expect(await eventTypes(missing.id)).toContain('status.missing');

    expect((await detail(signedOff.id)).status).toBe('offline');
    const signedOffTimeline = await eventTypes(signedOff.id);
    expect(signedOffTimeline).toContain('status.offline');
    expect(signedOffTimeline).not.toContain('status.missing');
  });

  it('filters the device list by status and counts every status over the filtered set', async () => {
    const onlyMissing = await list('status=missing');
    expect(onlyMissing.items.map((d) => d.serial)).toEqual([missing.serial]);
    expect(onlyMissing.total).toBe(1);
    expect(onlyMissing.counts).toEqual({ online: 5, offline: 1, missing: 1 });

    const onlyOffline = await list('status=offline');
    expect(onlyOffline.items.map((d) => d.serial)).toEqual([signedOff.serial]);

    const alphaOnly = await list(`customerId=${alpha.id}`);
    expect(alphaOnly.counts).toEqual({ online: 3, offline: 1, missing: 1 });
    expect(alphaOnly.total).toBe(5);
  });

  it('brings a missing device back online when its agent restarts, and says so in the timeline', async () => {
    const member = fleet.get(missing.serial);
    member.agent = new Agent(member.config, member.device, member.agent.credentials, { logger: pino({ level: 'silent' }) });
    member.agent.start();
    await waitFor(async () => (await detail(missing.id)).status === 'online', { timeoutMs: 10_000, what: 'the restarted device to come online' });
    const timeline = await eventTypes(missing.id);
    const wentMissing = timeline.lastIndexOf('status.missing');
    expect(timeline.indexOf('status.online', wentMissing)).toBeGreaterThan(wentMissing);
    expect(timeline.indexOf('agent.restarted', wentMissing)).toBeGreaterThan(wentMissing);
    expect((await list('status=missing')).total).toBe(0);
  });

  it("holds every data item the device has, as the device reads it, with numbers kept as numbers", async () => {
    const member = fleet.get(reporting.serial);
    const keys = Object.keys(member.device.read()).sort();
    const latest = await waitFor(async () => {
      const d = await detail(reporting.id);
      return d.dataItems.length === keys.length ? d : undefined;
    }, { what: 'every data item to arrive' });
    expect(latest.dataItems.map((i) => i.key)).toEqual(keys);
    const reading = member.device.read();
    for (const item of latest.dataItems) expect(typeof item.value, item.key).toBe(typeof reading[item.key]);
    expect(typeof latest.dataItems.find((i) => i.key === 'battery')?.value).toBe('number');

    // The state changes as the injector works; at some moment server and device agree.
    await waitFor(async () => {
      const d = await detail(reporting.id);
      return d.dataItems.find((i) => i.key === 'state')?.value === member.device.read().state;
    }, { what: "the server's state to match the device's" });
  });

  it('returns the history of a data item oldest first', async () => {
    // A failing battery drains 0.1 % a tick: a new point each time it crosses the 1 % dead band.
    await fleet.inject(reporting.serial, 'low-battery');
    const points = await waitFor(async () => {
      const p = await history(reporting.id, 'battery');
      return p.length >= 4 ? p : undefined;
    }, { timeoutMs: 10_000, what: 'several battery points' });
    const times = points.map((p) => Date.parse(p.at));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(points.every((p) => typeof p.value === 'number')).toBe(true);
    fleet.clear(reporting.serial);
  });

  it('keeps at most historyPerDataItem points per item once the pruner has run, and keeps the newest', async () => {
    await waitFor(async () => (await history(historian.id, 'temperature')).length > 10, { timeoutMs: PRUNE_WAIT_MS, what: 'more than 10 temperature points' });
    const member = fleet.get(historian.serial);
    member.device.stop();
    await member.agent.stop({ goodbye: true });

    const pruned = await waitFor(async () => {
      const p = await history(historian.id, 'temperature');
      return p.length <= 10 ? p : undefined;
    }, { timeoutMs: PRUNE_WAIT_MS, intervalMs: 250, what: 'the pruner to trim the history to 10 points' });
    expect(pruned).toHaveLength(10);
    const latest = (await detail(historian.id)).dataItems.find((i) => i.key === 'temperature');
    expect(pruned.at(-1)).toEqual({ at: latest?.at, value: latest?.value });
  });

  it('narrows the list by serial text, model and customer', async () => {
    const bySerial = await list('q=MISS');
    expect(bySerial.items.map((d) => d.serial)).toEqual([missing.serial]);
    expect(bySerial.total).toBe(1);

    const byPrefix = await list('q=STA-B');
    expect(byPrefix.items.map((d) => d.serial)).toEqual(['STA-B-0001', 'STA-B-0002']);

    // Wildcards in the search text are literal, not SQL patterns.
    expect((await list(`q=${encodeURIComponent('%')}`)).total).toBe(0);
    expect((await list(`q=${encodeURIComponent('STA_A')}`)).total).toBe(0);

    const byModel = await list('model=radimetrics');
    expect(byModel.items.map((d) => d.serial)).toEqual(['STA-A-RAD', 'STA-B-0002']);
    expect(byModel.items.every((d) => d.modelId === 'radimetrics')).toBe(true);

    const byCustomer = await list(`customerId=${beta.id}`);
    expect(byCustomer.total).toBe(2);
    expect(byCustomer.items.every((d) => d.customerId === beta.id && d.customerName === 'Status Beta Clinic')).toBe(true);

    const combined = await list(`customerId=${alpha.id}&model=stellant-flex`);
    expect(combined.items.map((d) => d.serial)).toEqual(['STA-A-DATA', 'STA-A-MISS']);
  });

  it('pages with limit and offset over a stable total, each device exactly once', async () => {
    const pages = [await list('limit=3&offset=0'), await list('limit=3&offset=3'), await list('limit=3&offset=6')];
    expect(pages.map((p) => p.total)).toEqual([7, 7, 7]);
    expect(pages.map((p) => p.items.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((p) => p.items.map((d) => d.serial))).toEqual(allSerials);
    const beyond = await list('limit=3&offset=9');
    expect(beyond.items).toEqual([]);
    expect(beyond.total).toBe(7);
  });
});
