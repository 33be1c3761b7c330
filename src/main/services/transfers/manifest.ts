import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { TetherError } from '../../../shared/errors.ts';
import { TRANSFER_CHUNK_BYTES, type TransferManifest, chunkCount } from '../../../shared/transfers.ts';

/** A manifest with the file state it was computed from (an upload resumes only on the same file). */
export interface HashedFile {
  manifest: TransferManifest;
  mtimeMs: number;
}

/**
 * Reads a local file once and declares it: its size, the SHA-256 of the whole file and of
 * every chunk. Streams in bounded pieces (memory stays flat whatever the size). A file
 * that changes while it is read is refused: its manifest would describe neither version.
 */
export async function computeManifest(
  path: string,
  options: { chunkSize?: number; signal?: AbortSignal; onProgress?: (hashedBytes: number) => void } = {},
): Promise<HashedFile> {
  const chunkSize = options.chunkSize ?? TRANSFER_CHUNK_BYTES;
  const before = await statFile(path);
  const whole = createHash('sha256');
  const chunks: string[] = [];
  let current = createHash('sha256');
  let inChunk = 0;
  let total = 0;
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024, ...(options.signal ? { signal: options.signal } : {}) });
  for await (const data of stream as AsyncIterable<Buffer>) {
    whole.update(data);
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(chunkSize - inChunk, data.length - offset);
      current.update(data.subarray(offset, offset + take));
      inChunk += take;
      offset += take;
      if (inChunk === chunkSize) {
        chunks.push(current.digest('hex'));
        current = createHash('sha256');
        inChunk = 0;
      }
    }
    total += data.length;
    options.onProgress?.(total);
  }
  if (inChunk > 0) chunks.push(current.digest('hex'));
  const after = await statFile(path);
  if (total !== before.size || after.size !== before.size || after.mtimeMs !== before.mtimeMs || chunks.length !== chunkCount(total, chunkSize)) {
    throw new TetherError('CONFLICT', `${path} changed while it was being read; try again once nothing writes to it`);
  }
  return { manifest: { size: total, sha256: whole.digest('hex'), chunkSize, chunks }, mtimeMs: before.mtimeMs };
}

/** Size and modification time of a regular file, or FILE_NOT_FOUND / VALIDATION_FAILED in words. */
export async function statFile(path: string): Promise<{ size: number; mtimeMs: number }> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new TetherError('FILE_NOT_FOUND', `${path} does not exist`);
    if (code === 'EACCES' || code === 'EPERM') throw new TetherError('FORBIDDEN', `this console may not read ${path}`);
    throw err;
  }
  if (!info.isFile()) throw new TetherError('VALIDATION_FAILED', `${path} is not a regular file`);
  return { size: info.size, mtimeMs: info.mtimeMs };
}
