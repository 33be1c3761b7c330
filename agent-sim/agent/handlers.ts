import { setTimeout as sleep } from 'node:timers/promises';
import { AGENT_VERSION } from './config.ts';
import type { CommandExecutor } from './executor.ts';
import type { Agent } from './agent.ts';

/** The non-privileged commands every agent answers. */
export function registerBuiltinHandlers(executor: CommandExecutor, agent: Agent): void {
  executor.register('ping', async (params, { signal }) => {
    const delayMs = typeof params.delayMs === 'number' ? params.delayMs : 0;
    if (delayMs > 0) await sleep(delayMs, undefined, { signal });
    return { ...(typeof params.echo === 'string' ? { echo: params.echo } : {}), agentTime: Date.now() };
  });

  executor.register('read-status', async () => ({
    serial: agent.device.serial,
    model: agent.device.modelId,
    softwareVersion: agent.device.softwareVersion,
    agentVersion: AGENT_VERSION,
    uptimeSeconds: agent.uptimeSeconds,
    deviceState: agent.device.state(),
    outboundQueued: agent.outbound.queued,
    outboundDropped: agent.outbound.dropped,
  }));

  executor.register('read-data-items', async (params) => {
    const keys = Array.isArray(params.keys) ? (params.keys as string[]) : undefined;
    return { values: agent.device.read(keys) };
  });
}
