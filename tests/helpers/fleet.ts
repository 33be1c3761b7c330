import { join } from 'node:path';
import { pino } from 'pino';
import { Fleet } from '../../agent-sim/fleet.ts';
import type { AgentConfigInput } from '../../agent-sim/agent/config.ts';
import type { SeededDevice } from './admin.ts';
import { type TestServer, tempDir } from './server.ts';

/** Agent settings for tests: quick retries, quick flushes. */
export function testAgentSettings(ts: TestServer, extra: Partial<AgentConfigInput> = {}): Omit<AgentConfigInput, 'dataDir'> {
  return { serverUrl: ts.url, serverCaPem: ts.ca, backoff: { baseMs: 50, maxMs: 500 }, dataFlushMs: 50, ...extra };
}

/** Real agents (in this process) for seeded devices, enrolled and started. */
export async function startFleet(
  ts: TestServer,
  devices: readonly SeededDevice[],
  options: { dataDir?: string; agent?: Partial<AgentConfigInput>; tickMs?: number } = {},
): Promise<Fleet> {
  const fleet = new Fleet({
    agent: testAgentSettings(ts, options.agent),
    dataDir: options.dataDir ?? join(tempDir('tether-agents-'), 'agents'),
    log: pino({ level: 'silent' }),
    tickMs: options.tickMs ?? 200,
  });
  await fleet.add(devices.map((d) => ({ serial: d.serial, modelId: d.modelId, enrollmentCode: d.enrollmentCode })));
  fleet.startAll();
  return fleet;
}
