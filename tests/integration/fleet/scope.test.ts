import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../../agent-sim/fleet.ts';
import type { CommandView } from '#contract/api/commands';
import type { DeviceListResponse } from '#contract/api/fleet';
import type { DeviceModelId } from '#contract/device-models';
import type { ErrorBody } from '#contract/errors';
import type { ApiClient } from '../../helpers/http.ts';
import { type SeededDevice, createUser, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

const MODELS: DeviceModelId[] = ['stellant-flex', 'mrxperion', 'mark7-arterion', 'intego', 'radimetrics'];
const POLL_WINDOW_MS = 20_000;

function devices(prefix: string, n: number) {
  return Array.from({ length: n }, (_, i) => ({ serial: `${prefix}-${String(i + 1).padStart(4, '0')}`, modelId: MODELS[i % MODELS.length]! }));
}

describe('server with 25 simulated agents: scope and the command channel', () => {
  let ts: TestServer;
  let fleet: Fleet;
  let a: { customer: { id: string }; devices: SeededDevice[] };
  let b: { customer: { id: string }; devices: SeededDevice[] };
  let engineerA: ApiClient;
  let viewerA: ApiClient;

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: POLL_WINDOW_MS });
    a = await seedCustomer(ts, 'Alpha Hospital', devices('SFX-A', 13));
    b = await seedCustomer(ts, 'Beta Clinic', devices('SFX-B', 12));
    fleet = await startFleet(ts, [...a.devices, ...b.devices], { tickMs: 500 });
    engineerA = (await createUser(ts, 'eng-alpha', 'engineer', [a.customer.id])).client;
    viewerA = (await createUser(ts, 'view-alpha', 'viewer', [a.customer.id])).client;
    await waitFor(async () => {
      const res = await ts.adminClient.get<DeviceListResponse>('/api/v1/devices?status=online&limit=100');
      return res.body.total === 25;
    }, { timeoutMs: 30_000, what: 'all 25 agents online' });
  });

  afterAll(async () => {
    await fleet?.stopAll({ goodbye: false });
    await ts?.destroy();
  });

  it('lists to an engineer only the devices of their customer', async () => {
    const res = await engineerA.get<DeviceListResponse>('/api/v1/devices?limit=100');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(13);
    expect(res.body.items.every((d) => d.customerId === a.customer.id)).toBe(true);
    expect(res.body.counts.online).toBe(13);
    const customers = await engineerA.get<{ items: { id: string }[] }>('/api/v1/customers');
    expect(customers.body.items.map((c) => c.id)).toEqual([a.customer.id]);
    const sites = await engineerA.get<{ items: { customerId: string }[] }>('/api/v1/sites');
    expect(sites.body.items.every((s) => s.customerId === a.customer.id)).toBe(true);
    // an explicit filter on someone else's customer finds nothing rather than leaking
    const other = await engineerA.get<DeviceListResponse>(`/api/v1/devices?customerId=${b.customer.id}`);
    expect(other.body.total).toBe(0);
  });

  it("answers 404 — not 403 — for every route on another customer's device", async () => {
    const foreign = b.devices[0]!.id;
    const paths = [
      `/api/v1/devices/${foreign}`,
      `/api/v1/devices/${foreign}/events`,
      `/api/v1/devices/${foreign}/alarms`,
      `/api/v1/devices/${foreign}/commands`,
      `/api/v1/devices/${foreign}/data-items/battery/history`,
    ];
    for (const path of paths) {
      const res = await engineerA.get<ErrorBody>(path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    const command = await engineerA.post<ErrorBody>(`/api/v1/devices/${foreign}/commands`, { name: 'ping' });
    expect(command.status).toBe(404);

    // a command the admin sent to B is invisible to A's engineer too
    const queued = await ts.adminClient.post<{ id: string }>(`/api/v1/devices/${foreign}/commands`, { name: 'ping' });
    expect((await engineerA.get<ErrorBody>(`/api/v1/commands/${queued.body.id}`)).status).toBe(404);
    expect((await engineerA.post<ErrorBody>(`/api/v1/commands/${queued.body.id}/cancel`)).status).toBe(404);
  });

  it('lets a viewer look but not command (403 on an in-scope device)', async () => {
    const own = a.devices[0]!.id;
    expect((await viewerA.get(`/api/v1/devices/${own}`)).status).toBe(200);
    const res = await viewerA.post<ErrorBody>(`/api/v1/devices/${own}/commands`, { name: 'ping' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });

  it('wakes the held poll: a ping round trip ends long before the poll window would', async () => {
    const target = a.devices[3]!;
    const started = Date.now();
    const queued = await engineerA.post<{ id: string; state: string }>(`/api/v1/devices/${target.id}/commands`, { name: 'ping', params: { echo: 'hello' } });
    expect(queued.status).toBe(202);
    expect(queued.body.state).toBe('queued');
    const done = await waitFor(async () => {
      const view = await engineerA.get<CommandView>(`/api/v1/commands/${queued.body.id}`);
      return view.body.state === 'succeeded' ? view.body : undefined;
    }, { timeoutMs: POLL_WINDOW_MS, intervalMs: 5, what: 'ping to succeed' });
    const elapsed = Date.now() - started;
    // Behaviour, not speed: an un-woken poll could not answer before the 20 s window.
    expect(elapsed).toBeLessThan(POLL_WINDOW_MS / 4);
    expect(done.result).toMatchObject({ echo: 'hello' });
    expect(done.history.map((h) => h.state)).toEqual(['queued', 'delivered', 'running', 'succeeded']);
    expect(done.attempts).toBe(1);
  });

  it('runs a burst of commands to every device, each exactly once', async () => {
    const all = [...a.devices, ...b.devices];
    const ids = await Promise.all(all.map(async (d) => (await ts.adminClient.post<{ id: string }>(`/api/v1/devices/${d.id}/commands`, { name: 'read-status' })).body.id));
    const views = await waitFor(async () => {
      const got = await Promise.all(ids.map(async (id) => (await ts.adminClient.get<CommandView>(`/api/v1/commands/${id}`)).body));
      return got.every((v) => v.state === 'succeeded') ? got : undefined;
    }, { timeoutMs: 15_000, what: 'all read-status commands to succeed' });
    for (const [i, view] of views.entries()) {
      expect(view.result).toMatchObject({ serial: all[i]!.serial, model: all[i]!.modelId });
      expect(view.attempts).toBe(1);
    }
  });
});
