import type { TransferItem } from '#contract/ipc';
import type { TransferState } from '#contract/transfers';
import { etaSeconds } from './progress.ts';
import { type TransferEntry, isActive, isTerminal } from './transfer-entry.ts';

/**
 * A transfer as the renderer sees it (`TransferItem`), made from the engine's entry alone:
 * the bytes done and moved as this side knows them (the device's count for an upload,
 * this console's for a download), speed and time left while a run goes on, and a state
 * that tells a transfer waiting for a slot from one that runs or retries.
 */
export function transferItemOf(entry: TransferEntry): TransferItem {
  const r = entry.record;
  const size = r.size ?? entry.server?.size ?? null;
  const done = r.state === 'completed';
  const upload = r.direction === 'to-device';
  const bytesDone = done ? (size ?? 0) : upload ? (entry.server?.deliveredBytes ?? 0) : entry.verified;
  const bytesMoved = done ? (size ?? 0) : entry.worker ? entry.moved : upload ? (entry.server?.uploadedBytes ?? 0) : entry.verified;
  const speed = entry.worker && isActive(r.state) ? entry.meter.bytesPerSecond() : 0;
  const tracked = entry.stage === 'delivering' ? bytesDone : bytesMoved;
  let state: TransferState = r.state;
  if (isActive(r.state)) state = entry.worker ? (entry.server?.state === 'queued' ? 'queued' : 'running') : entry.retryTimer ? 'running' : 'queued';
  return {
    id: r.id,
    transferId: r.transferId,
    deviceId: r.deviceId,
    deviceSerial: r.deviceSerial,
    sessionId: r.sessionId,
    direction: r.direction,
    fileName: r.fileName,
    devicePath: r.devicePath,
    localPath: upload ? (r.source && !r.source.staged ? r.source.path : null) : r.state === 'completed' ? r.finalPath : null,
    state,
    stage: isActive(r.state) ? (entry.retryTimer ? 'retrying' : entry.stage) : null,
    size,
    sha256: r.sha256 ?? entry.server?.sha256 ?? null,
    bytesDone: Math.min(bytesDone, size ?? bytesDone),
    bytesMoved: Math.min(bytesMoved, size ?? bytesMoved),
    speed,
    etaSeconds: isActive(r.state) && entry.stage !== 'preparing' ? etaSeconds(size, tracked, speed) : null,
    error: r.error,
    attempts: r.attempts,
    nextRetryAt: entry.retryAt ? new Date(entry.retryAt).toISOString() : null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    completedAt: r.completedAt,
  };
}

/** The list's order: running and waiting transfers first, then the history; newest first in each. */
export function byListOrder(a: TransferItem, b: TransferItem): number {
  const rank = (i: TransferItem) => (isTerminal(i.state) ? 1 : 0);
  return rank(a) - rank(b) || (b.completedAt ?? b.createdAt).localeCompare(a.completedAt ?? a.createdAt);
}
