import { randomUUID } from 'node:crypto';
import type { TransferView } from '#contract/api/transfers';
import type { TransferStage } from '#contract/ipc';
import { TERMINAL_TRANSFER_STATES, TRANSFER_CHUNK_BYTES, type TransferState, chunkRange } from '#contract/transfers';
import { SpeedMeter } from './progress.ts';
import type { TransferRecord } from './transfer-store.ts';

/**
 * One transfer as the engine holds it while its owner is signed in: the record kept on
 * disk, the server's latest word on it, and what only lives in memory (the run going on,
 * its stage and byte counts, the retry timer, the runs waiting for the server).
 */
export interface TransferEntry {
  record: TransferRecord;
  /** The server's latest view (answers and live events; older ones are ignored). */
  server: TransferView | null;
  stage: TransferStage | null;
  moved: number;
  verified: number;
  meter: SpeedMeter;
  /** Automatic retries in a row (reset by progress). */
  failures: number;
  retryAt: number | null;
  retryTimer: NodeJS.Timeout | undefined;
  worker: { controller: AbortController; done: Promise<void> } | undefined;
  /** Runs waiting for the server's view to change. */
  waiters: Set<() => void>;
  /** The clean-up after the transfer ended here (files of a canceled one removed). */
  settled: Promise<void> | undefined;
}

/** What a new transfer's record is made of; the rest starts from defaults (queued, nothing moved). */
export type NewTransferFields = Pick<
  TransferRecord,
  'direction' | 'deviceId' | 'deviceSerial' | 'sessionId' | 'fileName' | 'devicePath' | 'overwrite' | 'source' | 'transferId' | 'destination' | 'saveDir'
>;

/** A finished transfer stays as it is: no run starts it, no server view reopens it. */
export const isTerminal = (state: TransferState): boolean => TERMINAL_TRANSFER_STATES.includes(state);

/** Queued or running: the transfer wants a run (or has one). */
export const isActive = (state: TransferState): boolean => state === 'queued' || state === 'running';

/** A new transfer's record, queued; a download's server view (when there is one) gives its size and chunking. */
export function newTransferRecord(owner: string, fields: NewTransferFields, view?: TransferView): TransferRecord {
  const now = new Date().toISOString();
  return {
    version: 1,
    id: randomUUID(),
    owner,
    ...fields,
    uploadUrl: null,
    verifiedChunks: 0,
    finalPath: null,
    state: 'queued',
    size: view?.size ?? null,
    sha256: view?.sha256 ?? null,
    chunkSize: view?.chunkSize ?? TRANSFER_CHUNK_BYTES,
    error: null,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
    completedAt: null,
  };
}

/** An entry for a record, new or loaded: its verified bytes follow from the verified chunks. */
export function newTransferEntry(record: TransferRecord, server: TransferView | null = null): TransferEntry {
  const verified = record.size === null || record.verifiedChunks === 0 ? 0 : chunkRange(record.verifiedChunks - 1, record.size, record.chunkSize).end;
  return { record, server, stage: null, moved: verified, verified, meter: new SpeedMeter(), failures: 0, retryAt: null, retryTimer: undefined, worker: undefined, waiters: new Set(), settled: undefined };
}
