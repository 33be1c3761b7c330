import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '#contract/errors';
import { request } from '../../helpers/http.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import { seedCustomer } from '../../helpers/admin.ts';

/** Counts of every table a bad request could half-write. */
async function rowCounts(ts: TestServer): Promise<Record<string, number>> {
  const db = ts.server.ctx.db;
  const count = async (table: 'commands' | 'devices' | 'customers' | 'sites' | 'users' | 'command_transitions' | 'alarms') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  return {
    commands: await count('commands'),
    transitions: await count('command_transitions'),
    devices: await count('devices'),
    customers: await count('customers'),
    sites: await count('sites'),
    users: await count('users'),
    alarms: await count('alarms'),
  };
}

describe('bad input is answered with a typed 4xx and writes nothing', () => {
  let ts: TestServer;
  let deviceId: string;

  beforeAll(async () => {
    ts = await startTestServer({ bodyLimitBytes: 16 * 1024 });
    const seeded = await seedCustomer(ts, 'Input Hospital', [{ serial: 'SFX-IN00001', modelId: 'stellant-flex' }]);
    deviceId = seeded.devices[0]!.id;
  });
  afterAll(async () => ts.destroy());

  const cases: { name: string; method: string; path: () => string; raw?: string; body?: unknown; headers?: Record<string, string>; status: number; code: string }[] = [
    { name: 'malformed JSON', method: 'POST', path: () => `/api/v1/devices/${deviceId}/commands`, raw: '{"name": "ping",', status: 400, code: 'MALFORMED_JSON' },
    { name: 'empty JSON body', method: 'POST', path: () => `/api/v1/devices/${deviceId}/commands`, raw: '', headers: { 'content-type': 'application/json' }, status: 400, code: 'MALFORMED_JSON' },
    { name: 'wrong type', method: 'POST', path: () => `/api/v1/devices/${deviceId}/commands`, body: { name: 42 }, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'unknown command name', method: 'POST', path: () => `/api/v1/devices/${deviceId}/commands`, body: { name: 'format-disk' }, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'unknown field', method: 'POST', path: () => `/api/v1/devices/${deviceId}/commands`, body: { name: 'ping', sneaky: true }, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'bad command parameters', method: 'POST', path: () => `/api/v1/devices/${deviceId}/commands`, body: { name: 'ping', params: { delayMs: -5 } }, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'oversized body', method: 'POST', path: () => `/api/v1/devices/${deviceId}/commands`, raw: JSON.stringify({ name: 'ping', params: { echo: 'x'.repeat(40_000) } }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
    { name: 'unsupported media type', method: 'POST', path: () => `/api/v1/devices/${deviceId}/commands`, raw: 'name=ping', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    { name: 'unknown device id', method: 'POST', path: () => '/api/v1/devices/00000000-0000-0000-0000-000000000000/commands', body: { name: 'ping' }, status: 404, code: 'NOT_FOUND' },
    { name: 'unknown command id', method: 'GET', path: () => '/api/v1/commands/does-not-exist', status: 404, code: 'NOT_FOUND' },
    { name: 'unknown route', method: 'GET', path: () => '/api/v1/no-such-thing', status: 404, code: 'NOT_FOUND' },
    { name: 'bad query value', method: 'GET', path: () => '/api/v1/devices?limit=0', status: 400, code: 'VALIDATION_FAILED' },
    { name: 'unknown query field', method: 'GET', path: () => '/api/v1/devices?colour=red', status: 400, code: 'VALIDATION_FAILED' },
    { name: 'bad status filter', method: 'GET', path: () => '/api/v1/devices?status=exploded', status: 400, code: 'VALIDATION_FAILED' },
    { name: 'bad data item key', method: 'GET', path: () => `/api/v1/devices/${deviceId}/data-items/..%2F..%2Fetc/history`, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'device for an unknown site', method: 'POST', path: () => '/api/v1/devices', body: { siteId: 'whatever', modelId: 'stellant-flex', serial: 'SFX-IN00001' }, status: 404, code: 'NOT_FOUND' },
    { name: 'bad serial format', method: 'POST', path: () => '/api/v1/devices', body: { siteId: 'x', modelId: 'stellant-flex', serial: 'lower case!' }, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'unknown model', method: 'POST', path: () => '/api/v1/devices', body: { siteId: 'x', modelId: 'toaster', serial: 'TOAST-1' }, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'weak password for a new user', method: 'POST', path: () => '/api/v1/users', body: { username: 'weak', displayName: 'W', role: 'viewer', password: 'short', customerIds: 'all' }, status: 400, code: 'VALIDATION_FAILED' },
    { name: 'alarm id that does not exist', method: 'POST', path: () => '/api/v1/alarms/nope/acknowledge', status: 404, code: 'NOT_FOUND' },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const before = await rowCounts(ts);
      const res = await request<ErrorBody>(ts.url, ts.ca, c.method, c.path(), {
        token: ts.adminClient.token,
        ...(c.raw !== undefined ? { rawBody: c.raw, headers: { 'content-type': 'application/json', ...c.headers } } : {}),
        ...(c.body !== undefined ? { body: c.body } : {}),
        ...(c.raw === undefined && c.headers ? { headers: c.headers } : {}),
      });
      expect(res.status).toBe(c.status);
      expect(res.body.error.code).toBe(c.code);
      expect(typeof res.body.error.message).toBe('string');
      expect(await rowCounts(ts)).toEqual(before);
    });
  }

  it('a conflicting serial is a 409 and leaves the first device alone', async () => {
    const sites = await ts.adminClient.get<{ items: { id: string }[] }>('/api/v1/sites');
    const res = await ts.adminClient.post<ErrorBody>('/api/v1/devices', { siteId: sites.body.items[0]!.id, modelId: 'mrxperion', serial: 'SFX-IN00001' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CONFLICT');
    const device = await ts.adminClient.get<{ modelId: string }>(`/api/v1/devices/${deviceId}`);
    expect(device.body.modelId).toBe('stellant-flex');
  });

  it('never answers a client mistake with 5xx, whatever the path', async () => {
    const paths = ['/', '/api', '/api/v1', '/agent/v1/poll', '/api/v1/devices/%00', '/api/v1/devices/' + 'a'.repeat(5000), '/api/v1/audit?limit=-1'];
    for (const path of paths) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const res = await request(ts.url, ts.ca, method, path, { token: ts.adminClient.token });
        expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
      }
    }
  });
});
