import type { TransferItem } from '#contract/ipc';
import { TERMINAL_TRANSFER_STATES } from '#contract/transfers';
import { formatBytes } from '../lib/format.ts';
import { formatDuration } from '../lib/time-format.ts';

/** Whether a transfer is over (completed, failed, canceled): it belongs to the history. */
export const isFinishedTransfer = (item: TransferItem) => TERMINAL_TRANSFER_STATES.includes(item.state);

/** Transfers still moving or waiting to: the header's badge. */
export function activeTransferCount(items: readonly TransferItem[] | null): number {
  return items?.filter((i) => i.state === 'running' || i.state === 'queued').length ?? 0;
}

/** What a notification says about a transfer that just finished. */
export interface TransferNotice {
  tone: 'completed' | 'failed';
  title: string;
  /** The error in words is added by the caller (it phrases codes); this is the rest. */
  message: string;
  item: TransferItem;
}

/**
 * The transfers that finished between two views of the engine: completed or failed since
 * `before` (a transfer not seen before, or one the user canceled, says nothing).
 */
export function transferNotices(before: readonly TransferItem[] | null, after: readonly TransferItem[]): TransferNotice[] {
  if (!before) return [];
  const known = new Map(before.map((i) => [i.id, i]));
  const notices: TransferNotice[] = [];
  for (const item of after) {
    const was = known.get(item.id);
    if (!was || isFinishedTransfer(was) || !isFinishedTransfer(item)) continue;
    const upload = item.direction === 'to-device';
    if (item.state === 'completed') {
      notices.push({
        tone: 'completed',
        item,
        title: upload ? `${item.fileName} sent to ${item.deviceSerial}` : `${item.fileName} downloaded`,
        message: upload
          ? `The device verified all ${formatBytes(item.size ?? 0)} and placed it at ${item.devicePath}.`
          : `Verified (${formatBytes(item.size ?? 0)}) and saved${item.localPath ? ` as ${item.localPath}` : ''}.`,
      });
    } else if (item.state === 'failed') {
      notices.push({ tone: 'failed', item, title: upload ? `Sending ${item.fileName} to ${item.deviceSerial} failed` : `Downloading ${item.fileName} failed`, message: '' });
    }
  }
  return notices;
}

/** The progress bar: verified share, and the share moved but not verified yet (uploads sent ahead of the device). */
export function progressShares(item: TransferItem): { done: number; moved: number } {
  if (item.state === 'completed') return { done: 100, moved: 0 };
  const size = item.size;
  if (size === null) return { done: 0, moved: 0 };
  if (size === 0) return { done: 0, moved: 0 };
  const done = Math.min(100, (item.bytesDone / size) * 100);
  const moved = Math.min(100 - done, Math.max(0, ((item.bytesMoved - item.bytesDone) / size) * 100));
  // hashing is not moving: the bar shows only what the receiver has
  return { done, moved: item.stage === 'preparing' ? 0 : moved };
}

const STAGE_TEXT = {
  preparing: 'Checking the file',
  waiting: 'Waiting for the device',
  uploading: 'Sending',
  delivering: 'The device is receiving',
  downloading: 'Receiving',
  verifying: 'Verifying',
  retrying: 'Connection lost, retrying',
} as const;

/** What a transfer is doing, in a few words ("Sending", "Paused", "Waiting for a free slot"). */
export function transferStatusText(item: TransferItem, nowMs: number = Date.now()): string {
  switch (item.state) {
    case 'completed':
      return 'Completed';
    case 'canceled':
      return 'Canceled';
    case 'failed':
      return 'Failed';
    case 'paused':
      return 'Paused';
    case 'queued':
      return item.stage === 'waiting' || item.stage === null ? 'Waiting for a free slot' : STAGE_TEXT[item.stage];
    case 'running': {
      if (item.stage === 'retrying' && item.nextRetryAt) {
        const seconds = Math.max(1, Math.ceil((Date.parse(item.nextRetryAt) - nowMs) / 1000));
        return `${STAGE_TEXT.retrying} in ${seconds} s`;
      }
      if (item.stage === 'preparing' && item.size === null && item.bytesMoved > 0) return `${STAGE_TEXT.preparing} (${formatBytes(item.bytesMoved)} read)`;
      return item.stage ? STAGE_TEXT[item.stage] : 'Starting';
    }
  }
}

/**
 * "12 MB of 40 MB · 2.1 MB/s · 14 s left" — what is known of the amounts. An upload sent
 * ahead of the device says both: "4.0 MB of 6.0 MB on the device · 6.0 MB sent".
 */
export function transferAmountsText(item: TransferItem): string {
  if (item.state === 'completed') return item.size === null ? '' : formatBytes(item.size);
  const parts: string[] = [];
  if (item.size !== null && item.stage !== 'preparing') {
    const ahead = item.direction === 'to-device' && item.bytesMoved > item.bytesDone;
    parts.push(ahead ? `${formatBytes(item.bytesDone)} of ${formatBytes(item.size)} on the device · ${formatBytes(item.bytesMoved)} sent` : `${formatBytes(item.bytesDone)} of ${formatBytes(item.size)}`);
  }
  if (item.speed > 0) parts.push(`${formatBytes(item.speed)}/s`);
  if (item.etaSeconds !== null && item.speed > 0) parts.push(`${formatDuration(item.etaSeconds)} left`);
  return parts.join(' · ');
}

/** Why a transfer ended early, in words: a failure as the error code says; a cancel plainly (it is no fault). */
export function transferEndText(item: TransferItem, describe: (error: TransferItem['error']) => string): string | null {
  if (!item.error) return null;
  if (item.state === 'canceled' && item.error.code === 'TRANSFER_NOT_ACTIVE') {
    const text = item.error.message.trim();
    return text ? `${text[0]!.toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}` : null;
  }
  return describe(item.error);
}

/** The engine's list as the drawer shows it: still moving first, then the history (newest first). */
export function splitTransfers(items: readonly TransferItem[]): { current: TransferItem[]; history: TransferItem[] } {
  return { current: items.filter((i) => !isFinishedTransfer(i)), history: items.filter(isFinishedTransfer) };
}
