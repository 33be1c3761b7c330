/**
 * `npm run docs:openapi`: writes docs/openapi.json from the route schemas of a freshly
 * built server (the same document `GET /api/v1/openapi.json` serves).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildServer } from '../server/app.ts';
import { parseServerConfig } from '../server/config.ts';

/** The OpenAPI document of the current code, as pretty JSON. */
export async function currentOpenApi(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-openapi-'));
  const server = await buildServer(parseServerConfig({ dataDir, logLevel: 'silent' }), { logger: pino({ level: 'silent' }) });
  try {
    await server.app.ready();
    return `${JSON.stringify(server.app.swagger(), null, 2)}\n`;
  } finally {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = new URL('../docs/openapi.json', import.meta.url);
  writeFileSync(target, await currentOpenApi());
  process.stdout.write(`wrote ${target.pathname}\n`);
}
