import type { TransferView } from '#contract/api/transfers';
import { newTransferEntry, type TransferEntry } from '../../../../src/main/services/transfers/transfer-entry.ts';
import type { TransferRecord } from '../../../../src/main/services/transfers/transfer-store.ts';

/** A download's record, running, three chunks of five verified; `overrides` make it what a test needs. */
export function transferRecord(overrides: Partial<TransferRecord> = {}): TransferRecord {
  return {
    version: 1,
    id: 'c1',
    owner: 'simulator/u1',
    transferId: 't1',
    deviceId: 'd1',
    deviceSerial: 'SFX-US00001',
    sessionId: 's1',
    direction: 'from-device',
    fileName: 'system.log',
    devicePath: '/logs/system.log',
    overwrite: false,
    source: null,
    uploadUrl: null,
    saveDir: '/tmp/downloads',
    destination: '/tmp/downloads/system.log',
    verifiedChunks: 3,
    finalPath: null,
    state: 'running',
    size: 20_000_000,
    sha256: 'a'.repeat(64),
    chunkSize: 4 * 1024 * 1024,
    error: null,
    attempts: 0,
    createdAt: '2025-01-01T10:00:00.000Z',
    updatedAt: '2025-01-01T10:00:00.000Z',
    completedAt: null,
    ...overrides,
  };
}

/** An upload's record: a local file sent to the device's service folder. */
export function uploadRecord(overrides: Partial<TransferRecord> = {}): TransferRecord {
  return transferRecord({
    direction: 'to-device',
    fileName: 'tool.bin',
    devicePath: '/service/tool.bin',
    source: { path: '/home/eng/tool.bin', size: 20_000_000, mtimeMs: 1, staged: false },
    saveDir: null,
    destination: null,
    verifiedChunks: 0,
    ...overrides,
  });
}

/** The server's view of transfer t1 at 10:00:05, running. */
export function serverView(overrides: Partial<TransferView> = {}): TransferView {
  return {
    id: 't1',
    deviceId: 'd1',
    deviceSerial: 'SFX-US00001',
    sessionId: 's1',
    direction: 'from-device',
    devicePath: '/logs/system.log',
    fileName: 'system.log',
    state: 'running',
    size: 20_000_000,
    sha256: 'a'.repeat(64),
    chunkSize: 4 * 1024 * 1024,
    totalChunks: 5,
    uploadedBytes: 0,
    deliveredBytes: 0,
    createdBy: { id: 'u1', username: 'eng', displayName: 'Engineer' },
    createdAt: '2025-01-01T10:00:00.000Z',
    updatedAt: '2025-01-01T10:00:05.000Z',
    completedAt: null,
    expiresAt: '2025-01-02T10:00:00.000Z',
    attempts: 0,
    error: null,
    ...overrides,
  };
}

/** An entry as the engine holds it, with the fields a test sets (a run going on, a retry waiting, …). */
export function transferEntry(record: TransferRecord, fields: Partial<TransferEntry> = {}): TransferEntry {
  return Object.assign(newTransferEntry(record), fields);
}

/** A run going on, as an entry holds it. */
export const runningWorker = (): NonNullable<TransferEntry['worker']> => ({ controller: new AbortController(), done: Promise.resolve() });
