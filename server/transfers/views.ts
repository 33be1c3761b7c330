import type { TransferDetail, TransferView } from '#contract/api/transfers';
import type { AgentTransfer } from '#contract/protocol/transfers';
import { chunkCount, chunksWithin, type TransferManifest } from '#contract/transfers';
import type { ErrorCode } from '#contract/errors';
import { iso, isoOf } from '../devices/views.ts';
import type { Db } from '../store/database.ts';
import type { TransferRow } from '../store/schema.ts';

/** A transfer row with the names its view shows. */
export type NamedTransferRow = TransferRow & { device_serial: string; username: string; display_name: string };

/** Transfers joined with their device's serial and their creator's names. */
export function transfersWithNames(db: Db) {
  return db
    .selectFrom('transfers as t')
    .innerJoin('devices as d', 'd.id', 't.device_id')
    .innerJoin('users as u', 'u.id', 't.created_by')
    .selectAll('t')
    .select(['d.serial as device_serial', 'u.username', 'u.display_name']);
}

/** The manifest the sender declared, once it did. */
export function manifestOf(row: Pick<TransferRow, 'size' | 'sha256' | 'chunks' | 'chunk_size'>): TransferManifest | null {
  if (row.size === null || row.sha256 === null || row.chunks === null) return null;
  return { size: Number(row.size), sha256: row.sha256, chunkSize: Number(row.chunk_size), chunks: JSON.parse(row.chunks) as string[] };
}

/** Chunks the server holds or passed on (whole chunks, from the first). */
export function uploadedChunks(row: Pick<TransferRow, 'size' | 'uploaded_bytes' | 'chunk_size'>): number {
  const uploaded = Number(row.uploaded_bytes);
  return row.size === null ? Math.floor(uploaded / Number(row.chunk_size)) : chunksWithin(uploaded, Number(row.size), Number(row.chunk_size));
}

export function deliveredBytes(row: Pick<TransferRow, 'size' | 'delivered_chunks' | 'chunk_size' | 'state'>): number {
  if (row.size === null) return 0;
  if (row.state === 'completed') return Number(row.size);
  return Math.min(Number(row.size), Number(row.delivered_chunks) * Number(row.chunk_size));
}

export function errorOf(row: Pick<TransferRow, 'error'>): { code: ErrorCode; message: string } | null {
  return row.error ? (JSON.parse(row.error) as { code: ErrorCode; message: string }) : null;
}

export function toTransferView(row: NamedTransferRow): TransferView {
  const size = row.size === null ? null : Number(row.size);
  return {
    id: row.id,
    deviceId: row.device_id,
    deviceSerial: row.device_serial,
    sessionId: row.session_id,
    direction: row.direction,
    devicePath: row.device_path,
    fileName: row.file_name,
    state: row.state,
    size,
    sha256: row.sha256,
    chunkSize: Number(row.chunk_size),
    totalChunks: size === null ? null : chunkCount(size, Number(row.chunk_size)),
    uploadedBytes: Number(row.uploaded_bytes),
    deliveredBytes: deliveredBytes(row),
    createdBy: { id: row.created_by, username: row.username, displayName: row.display_name },
    createdAt: isoOf(row.created_at),
    updatedAt: isoOf(row.updated_at),
    completedAt: iso(row.completed_at),
    expiresAt: isoOf(row.expires_at),
    attempts: Number(row.attempts),
    error: errorOf(row),
  };
}

export function toTransferDetail(row: NamedTransferRow): TransferDetail {
  return { ...toTransferView(row), manifest: manifestOf(row) };
}

export function toAgentTransfer(row: TransferRow): AgentTransfer {
  return {
    id: row.id,
    direction: row.direction,
    devicePath: row.device_path,
    state: row.state,
    chunkSize: Number(row.chunk_size),
    manifest: manifestOf(row),
    uploadedBytes: Number(row.uploaded_bytes),
    deliveredBytes: deliveredBytes(row),
    error: errorOf(row),
  };
}
