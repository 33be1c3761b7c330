import { describe, expect, it } from 'vitest';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { API_ROUTES } from '#contract/http/api-routes';
import { RouteClient, type RouteRequest, pathOf } from '#contract/http/client';
import { openApiDocument } from '#contract/http/openapi';
import type { RouteSpec } from '#contract/http/route';

const tables = [API_ROUTES, AGENT_ROUTES];

/** A client whose sender records what it was asked to send and answers `answer`. */
function recordingClient(answer: unknown) {
  const sent: { request: RouteRequest; options: { timeoutMs?: number } | undefined }[] = [];
  const api = new RouteClient<typeof API_ROUTES.routes, { timeoutMs?: number }>(API_ROUTES, async (request, options) => {
    sent.push({ request, options });
    return answer;
  });
  return { api, sent };
}

describe('the route table', () => {
  it('names each route once per method and path, with parameters that match its path', () => {
    for (const table of tables) {
      const seen = new Set<string>();
      for (const [name, route] of Object.entries(table.routes) as [string, RouteSpec][]) {
        const methods = Array.isArray(route.method) ? route.method : [route.method];
        for (const method of methods) {
          const key = `${method} ${table.prefix}${route.path}`;
          expect(seen.has(key), `${name}: ${key} declared twice`).toBe(false);
          seen.add(key);
        }
        const inPath = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]).sort();
        expect(Object.keys(route.params?.shape ?? {}).sort(), `${name}: params`).toEqual(inPath);
      }
    }
  });

  it('builds paths from the table: segments encoded, empty query values left out', () => {
    expect(pathOf(API_ROUTES, 'devices.history', { deviceId: 'dev/1 ?', key: 'pressure' }, { limit: 10, since: undefined })).toBe('/api/v1/devices/dev%2F1%20%3F/data-items/pressure/history?limit=10');
    expect(pathOf(AGENT_ROUTES, 'transfers.upload', { transferId: 't1' })).toBe('/agent/v1/uploads/t1');
    expect(() => pathOf(API_ROUTES, 'devices.get', { deviceId: '' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('calls a route with a body: the method, the path and the body reach the sender with the answer schema', async () => {
    const { api, sent } = recordingClient({ id: 'c1', state: 'queued' });
    const answer = await api.call('commands.create', { deviceId: 'd 1' }, { name: 'ping', params: {} }, { timeoutMs: 5 });
    expect(answer).toEqual({ id: 'c1', state: 'queued' });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.request).toMatchObject({ name: 'commands.create', method: 'POST', path: '/api/v1/devices/d%201/commands', body: { name: 'ping', params: {} } });
    expect(sent[0]!.request.response).toBe(API_ROUTES.routes['commands.create'].response);
    expect(sent[0]!.options).toEqual({ timeoutMs: 5 });
  });

  it('calls a route with a query: the input goes into the path, no body', async () => {
    const { api, sent } = recordingClient({ items: [], total: 0 });
    await api.call('devices.list', {}, { q: 'stellant', status: 'online', offset: 0 });
    expect(sent[0]!.request).toMatchObject({ method: 'GET', path: '/api/v1/devices?q=stellant&status=online&offset=0', body: undefined });
  });

  it('documents every route of both tables in OpenAPI, with its parameters and caller', () => {
    const doc = openApiDocument(tables, { version: '9.9.9' });
    for (const table of tables) {
      for (const [name, route] of Object.entries(table.routes) as [string, RouteSpec][]) {
        if (route.kind === 'json' && route.hidden) continue;
        const path = doc.paths[`${table.prefix}${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`];
        expect(path, name).toBeDefined();
        const methods = Array.isArray(route.method) ? route.method : [route.method];
        for (const method of methods) {
          const operation = path![method.toLowerCase()] as { parameters?: { name: string; in: string }[]; security?: unknown };
          expect(operation, `${name} ${method}`).toBeDefined();
          const pathParams = (operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort();
          expect(pathParams).toEqual(Object.keys(route.params?.shape ?? {}).sort());
          expect(Boolean(operation.security), `${name}: security`).toBe(route.caller.kind === 'user' || route.caller.kind === 'device');
        }
      }
    }
    expect(doc.info.version).toBe('9.9.9');
  });
});
