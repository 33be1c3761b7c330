import { TetherError } from '#contract/errors';
import type { AgentTransfer } from '#contract/protocol/transfers';
import type { CommandExecutor, HandlerContext } from '../executor.ts';
import type { TransferDeps } from './deps.ts';
import { type ReceiveParams, receiveFile, removeIfPresent } from './receiver.ts';
import { type SendParams, sendFile } from './sender.ts';

/** How long the agent asks the server about a stopped transfer before leaving its files for later. */
const SETTLE_TIMEOUT_MS = 10_000;

/** What the deps add for the handlers: somewhere to note a cleanup that could not be done. */
export interface TransferHandlerDeps extends TransferDeps {
  warn(message: string, err: unknown): void;
}

/**
 * `send-file` and `receive-file`, for devices with a file system. The executor checked
 * the session grant (scope `files`) and the parameters; DeviceFiles checks every path on
 * disk. Each run is audited locally (start, completion with size and hash, failure,
 * cancel — never content). A command stopped because the agent shuts down keeps its
 * state for the next run; one stopped because the transfer was canceled, expired or its
 * session ended deletes the partial file.
 */
export function registerTransferHandlers(executor: CommandExecutor, deps: TransferHandlerDeps): { settleLeftovers(): void } {
  executor.register('send-file', (params, context) => guarded('from-device', params as unknown as SendParams, context, deps, () => sendFile(params as unknown as SendParams, context, deps)));
  executor.register('receive-file', (params, context) => guarded('to-device', params as unknown as ReceiveParams, context, deps, () => receiveFile(params as unknown as ReceiveParams, context, deps)));
  // at start too: a transfer canceled, expired or ended with its session while the agent
  // was away leaves a partial file no command will come back for
  return { settleLeftovers: () => settleLeftovers(deps, '') };
}

async function guarded<T>(direction: AgentTransfer['direction'], params: { transferId: string; path: string }, context: HandlerContext, deps: TransferHandlerDeps, work: () => Promise<T>): Promise<T> {
  settleLeftovers(deps, params.transferId);
  // the executor must hear of an abort at once (the agent may be shutting down and closing
  // its journal); the work itself stops at its next step and its late failure is the abort's
  const { signal } = context;
  const aborted = new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  const running = work();
  running.catch(() => undefined);
  aborted.catch(() => undefined);
  try {
    return await Promise.race([running, aborted]);
  } catch (err) {
    if (context.signal.aborted) {
      onStopped(direction, params, context.signal.reason, deps);
      throw err;
    }
    const error = err instanceof TetherError ? err : new TetherError('COMMAND_FAILED', (err as Error).message);
    if (error.code === 'TRANSFER_NOT_ACTIVE') {
      // sent to a transfer that stopped (or sent again after a cancel, to clean up): drop what can never resume
      await settle(params.transferId, deps).catch((failure: unknown) => deps.warn('could not learn what became of a stopped transfer', failure));
      throw err;
    }
    deps.audit.append('transfer.fail', 'failed', { transferId: params.transferId, direction, path: params.path, code: error.code, reason: error.message });
    throw err;
  }
}

/**
 * The command was aborted. Its session ended: the transfer is over, drop its files now.
 * Otherwise (paused, canceled, expired — the server only says "stop") ask the server
 * which, in the background: the executor must hear of the abort at once.
 */
function onStopped(direction: AgentTransfer['direction'], params: { transferId: string; path: string }, reason: unknown, deps: TransferHandlerDeps): void {
  if (deps.stopping()) return; // the agent is going down: everything stays for the next run
  if (reason instanceof TetherError && reason.code === 'SESSION_ENDED') {
    discard(direction, params.transferId, params.path, 'session ended', deps).catch((err: unknown) => deps.warn('could not remove a stopped transfer’s files', err));
    return;
  }
  settle(params.transferId, deps).catch((err: unknown) => deps.warn('could not learn what became of a stopped transfer', err));
}

/** Looks up transfers this agent still keeps state for and drops those that can never resume. */
function settleLeftovers(deps: TransferHandlerDeps, current: string): void {
  deps.state
    .ids()
    .then(async (ids) => {
      for (const id of ids) if (id !== current) await settle(id, deps);
    })
    .catch((err: unknown) => deps.warn('could not check earlier transfers', err));
}

async function settle(transferId: string, deps: TransferHandlerDeps): Promise<void> {
  let transfer: AgentTransfer | undefined;
  try {
    transfer = await deps.client.get(transferId, AbortSignal.timeout(SETTLE_TIMEOUT_MS));
  } catch (err) {
    if (!(err instanceof TetherError && err.code === 'NOT_FOUND')) throw err;
  }
  if (deps.stopping()) return;
  const over = !transfer || transfer.state === 'canceled' || (transfer.state === 'failed' && transfer.error?.code === 'TRANSFER_EXPIRED');
  if (!over) return;
  const saved = await deps.state.load(transferId);
  if (!saved) return;
  await discard(saved.kind === 'receive' ? 'to-device' : 'from-device', transferId, saved.devicePath, transfer ? `transfer ${transfer.state}` : 'transfer gone', deps);
}

/** Deletes what the agent kept of a transfer that will never resume: its partial file and its state. */
async function discard(direction: AgentTransfer['direction'], transferId: string, path: string, why: string, deps: TransferHandlerDeps): Promise<void> {
  const saved = await deps.state.load(transferId);
  const partialRemoved = saved?.kind === 'receive' && saved.phase !== 'committed' ? await removeIfPresent(saved.partialPath) : false;
  await deps.state.remove(transferId);
  if (!deps.stopping()) deps.audit.append('transfer.cancel', 'ok', { transferId, direction, path, why, partialRemoved });
}
