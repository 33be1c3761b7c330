import type { META_ROUTES } from '#contract/http/api/meta';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { API_ROUTES, type ApiRoutes } from '#contract/http/api-routes';
import { openApiDocument } from '#contract/http/openapi';
import type { HandlersFor } from './routes.ts';

/** The server's own routes: health (with the relay's ports a site must let out) and the OpenAPI document. */
export function metaHandlers(version: string, relayPorts: () => { agentPort: number; consolePort: number }): HandlersFor<ApiRoutes, keyof typeof META_ROUTES> {
  let document: ReturnType<typeof openApiDocument> | undefined;
  return {
    health: async () => ({ status: 'ok' as const, version, relay: relayPorts() }),
    openapi: async () => (document ??= openApiDocument([API_ROUTES, AGENT_ROUTES], { version })),
  };
}
