import type { TransferView } from '#contract/api/transfers';
import { isActive } from './transfer-entry.ts';
import type { TransferRecord } from './transfer-store.ts';

/**
 * What the server's view of a transfer means here, kept pure: the server is the authority
 * on a transfer's state, so its pause, cancel or failure stops the local run and its
 * resume starts it again — but a local end is final, and a local failure stays until the
 * engineer retries.
 */

/** What the local side does on a server view. */
export type LocalCourse =
  | { kind: 'none' }
  | { kind: 'conclude'; state: 'completed' | 'failed' | 'canceled'; error: TransferRecord['error'] }
  | { kind: 'pause' }
  | { kind: 'resume' };

/** Answers and live events may arrive out of order: a view older than the one held changes nothing. */
export function isOlderView(held: TransferView | null, view: TransferView): boolean {
  return held !== null && Date.parse(view.updatedAt) < Date.parse(held.updatedAt);
}

/** The record with the file's size and hash once the sender declared them (a download learns them from the server). */
export function withDeclaredFile(record: TransferRecord, view: TransferView): TransferRecord {
  return view.size !== null && record.size === null ? { ...record, size: view.size, sha256: view.sha256 } : record;
}

/** The local course on the server's view `view` of the transfer whose record is `record`. */
export function localCourse(record: TransferRecord, view: TransferView): LocalCourse {
  const local = record.state;
  if (local === 'completed' || local === 'canceled') return { kind: 'none' };
  switch (view.state) {
    case 'completed':
      // an upload is done when the device has it; a download once its file is in place here
      return record.direction === 'to-device' || record.finalPath ? { kind: 'conclude', state: 'completed', error: null } : { kind: 'none' };
    case 'canceled':
      return { kind: 'conclude', state: 'canceled', error: view.error };
    case 'failed':
      return local === 'failed' ? { kind: 'none' } : { kind: 'conclude', state: 'failed', error: view.error ?? { code: 'COMMAND_FAILED', message: 'the transfer failed on the server' } };
    case 'paused':
      return isActive(local) ? { kind: 'pause' } : { kind: 'none' };
    case 'queued':
    case 'running':
      return local === 'paused' ? { kind: 'resume' } : { kind: 'none' };
  }
}
