import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { TetherError } from '../../../src/shared/errors.ts';
import { TRANSFER_CHUNK_BYTES, chunkCount, type TransferManifest } from '../../../src/shared/transfers.ts';

/** Bytes read at a time, into one reused buffer (fresh large buffers cost more than hashing them). */
const READ_BYTES = 1024 * 1024;

/**
 * One read pass over a file: the SHA-256 of every chunk and of the whole. Memory stays
 * flat. `onProgress` hears the bytes read so far. The file must still be `size` bytes
 * long when the pass ends (else CONFLICT: it changed while being read).
 */
export async function computeManifest(
  path: string,
  size: number,
  options: { chunkSize?: number; signal?: AbortSignal; onProgress?: (bytesRead: number) => void } = {},
): Promise<TransferManifest> {
  const chunkSize = options.chunkSize ?? TRANSFER_CHUNK_BYTES;
  const whole = createHash('sha256');
  const chunks: string[] = [];
  const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, chunkSize));
  const file = await open(path, 'r');
  let read = 0;
  try {
    for (let index = 0; index < chunkCount(size, chunkSize); index += 1) {
      const chunk = createHash('sha256');
      const end = Math.min(size, (index + 1) * chunkSize);
      while (read < end) {
        options.signal?.throwIfAborted();
        const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, end - read), read);
        if (bytesRead === 0) throw new TetherError('CONFLICT', `the file changed while it was being read (it ended at byte ${read}, expected ${size})`);
        const piece = buffer.subarray(0, bytesRead);
        chunk.update(piece);
        whole.update(piece);
        read += bytesRead;
        options.onProgress?.(read);
      }
      chunks.push(chunk.digest('hex'));
    }
    if ((await file.stat()).size !== size) throw new TetherError('CONFLICT', 'the file changed size while it was being read');
  } finally {
    await file.close();
  }
  return { size, sha256: whole.digest('hex'), chunkSize, chunks };
}
