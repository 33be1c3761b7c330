import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { API_ROUTES } from '#contract/http/api-routes';
import type { HttpMethod, RouteSpec } from '#contract/http/route';
import { requireTableRoutes } from '../../../server/http/routes.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';

describe('the server registers its routes from the table', () => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer();
  });
  afterAll(async () => ts.destroy());

  it('serves every route of both tables at its method and path', () => {
    const missing: string[] = [];
    for (const table of [API_ROUTES, AGENT_ROUTES]) {
      for (const [name, route] of Object.entries(table.routes) as [string, RouteSpec][]) {
        const methods: readonly HttpMethod[] = Array.isArray(route.method) ? route.method : [route.method as HttpMethod];
        for (const method of methods) {
          if (!ts.server.app.hasRoute({ method, url: `${table.prefix}${route.path}` })) missing.push(`${name}: ${method} ${table.prefix}${route.path}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('answers a table route with the status the table names', async () => {
    const res = await ts.adminClient.post<{ id: string }>('/api/v1/customers', { name: 'Route Table Clinic', region: 'us', country: 'US' });
    expect(res.status).toBe(API_ROUTES.routes['customers.create'].status);
    expect(res.body.id).toEqual(expect.any(String));
  });
});

describe('a route written by hand under a table prefix', () => {
  it('stops the server from being built, naming the route', async () => {
    const app = Fastify();
    requireTableRoutes(app, [API_ROUTES.prefix, AGENT_ROUTES.prefix]);
    expect(() => app.get('/api/v1/shortcut', async () => ({}))).toThrow(/GET \/api\/v1\/shortcut is not in the route table/);
    // outside the prefixes a route is none of the table's business
    expect(() => app.get('/metrics', async () => ({}))).not.toThrow();
    await app.close();
  });
});
