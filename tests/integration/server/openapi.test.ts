import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentOpenApi } from '../../../scripts/write-openapi.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';

describe('OpenAPI document', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer();
  });
  afterAll(async () => ts.destroy());

  it('is served at /api/v1/openapi.json and documents the public contract', async () => {
    const res = await ts.anonymous.get<{ openapi: string; paths: Record<string, Record<string, unknown>> }>('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    const routes = Object.entries(res.body.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes).toEqual(expect.arrayContaining([
      'GET /api/v1/health',
      'POST /api/v1/auth/login',
      'POST /api/v1/auth/refresh',
      'POST /api/v1/auth/logout',
      'GET /api/v1/me',
      'GET /api/v1/customers',
      'GET /api/v1/sites',
      'GET /api/v1/devices',
      'GET /api/v1/devices/{deviceId}',
      'GET /api/v1/devices/{deviceId}/data-items/{key}/history',
      'GET /api/v1/devices/{deviceId}/events',
      'POST /api/v1/alarms/{alarmId}/acknowledge',
      'POST /api/v1/devices/{deviceId}/commands',
      'GET /api/v1/commands/{commandId}',
      'GET /api/v1/audit',
      'GET /api/v1/audit/verify',
      'POST /agent/v1/enroll',
      'POST /agent/v1/poll',
    ]));
  });

  it('matches the committed docs/openapi.json (run `npm run docs:openapi` after changing a route)', async () => {
    const committed = readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8');
    expect(await currentOpenApi()).toBe(committed);
  });

  it('answers health without a token, with the relay ports a site must let out', async () => {
    const res = await ts.anonymous.get<{ status: string; version: string }>('/api/v1/health');
    const { agentPort, consolePort } = ts.server.services.tunnels.relayPorts;
    expect(agentPort).toBeGreaterThan(0);
    expect(res.body).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/), relay: { agentPort, consolePort } });
  });
});
