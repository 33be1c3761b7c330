import { setTimeout as sleep } from 'node:timers/promises';
import { TetherError } from '#contract/errors';
import { DIAGNOSTIC_CATALOG } from '#contract/protocol/diagnostics';
import { AGENT_VERSION } from './config.ts';
import type { DeviceAdapter } from './device.ts';
import type { CommandExecutor } from './executor.ts';
import type { DeviceFiles } from './files/types.ts';

/** What `read-status` reports of the running agent. */
export interface AgentStatusSource {
  readonly device: DeviceAdapter;
  readonly uptimeSeconds: number;
  readonly outbound: { readonly queued: number; readonly dropped: number };
}

/** The non-privileged commands every agent answers. */
export function registerBuiltinHandlers(executor: CommandExecutor, agent: AgentStatusSource): void {
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

/**
 * The diagnostics the device offers, run by the device adapter. Their grants are checked
 * by the executor before they get here; their results are checked against the catalog
 * on the way out, so a device bug reads as a failed command, not as a malformed result.
 */
export function registerDiagnosticHandlers(executor: CommandExecutor, device: DeviceAdapter): void {
  const diagnostics = device.diagnostics;
  if (!diagnostics) return;
  for (const name of diagnostics.offered()) {
    executor.register(name, async (params, context) => {
      const result = await diagnostics.run(name, params, context);
      const checked = DIAGNOSTIC_CATALOG[name].result.safeParse(result);
      if (!checked.success) throw new TetherError('COMMAND_FAILED', `the device returned a malformed ${name} result`);
      return checked.data;
    });
  }
}

/**
 * The remote file browser. The executor has checked the `files` grant and the path's
 * shape; DeviceFiles checks the path against the model's roots on disk and audits a
 * refusal, which fails the command with its code (PATH_NOT_ALLOWED, FILE_NOT_FOUND, …).
 */
export function registerFileHandlers(executor: CommandExecutor, files: DeviceFiles): void {
  executor.register('list-files', async (params, { signal }) => {
    signal.throwIfAborted();
    return files.list(typeof params.path === 'string' ? params.path : '/');
  });
}
