/**
 * `npm run docs:openapi`: writes docs/openapi.json from the route table (the same document
 * `GET /api/v1/openapi.json` serves).
 */
import { writeFileSync } from 'node:fs';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { API_ROUTES } from '#contract/http/api-routes';
import { openApiDocument } from '#contract/http/openapi';
import { TETHER_VERSION } from '#node-lib/version';

/** The OpenAPI document of the current route table, as pretty JSON. */
export function currentOpenApi(): string {
  return `${JSON.stringify(openApiDocument([API_ROUTES, AGENT_ROUTES], { version: TETHER_VERSION }), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = new URL('../docs/openapi.json', import.meta.url);
  writeFileSync(target, currentOpenApi());
  process.stdout.write(`wrote ${target.pathname}\n`);
}
