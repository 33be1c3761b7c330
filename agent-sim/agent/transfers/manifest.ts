import { fileManifest } from '#node-lib/file-manifest';
import { TRANSFER_CHUNK_BYTES, type TransferManifest } from '#contract/transfers';

/**
 * One read pass over a device file: the SHA-256 of every chunk and of the whole (the
 * whole on a second thread for large files). Memory stays flat. `onProgress` hears the
 * bytes read so far. The file must still be `size` bytes long when the pass ends (else
 * CONFLICT: it changed while being read).
 */
export function computeManifest(
  path: string,
  size: number,
  options: { chunkSize?: number; signal?: AbortSignal; onProgress?: (bytesRead: number) => void } = {},
): Promise<TransferManifest> {
  return fileManifest(path, size, { ...options, chunkSize: options.chunkSize ?? TRANSFER_CHUNK_BYTES });
}
