import { stat } from 'node:fs/promises';
import { TetherError } from '#contract/errors';
import { fileManifest } from '#node-lib/file-manifest';
import { TRANSFER_CHUNK_BYTES, type TransferManifest } from '#contract/transfers';

/** A manifest with the file state it was computed from (an upload resumes only on the same file). */
export interface HashedFile {
  manifest: TransferManifest;
  mtimeMs: number;
}

/**
 * Reads a local file and declares it: its size, the SHA-256 of the whole file and of every
 * chunk (node-lib/file-manifest.ts). Memory stays flat whatever the size. A file
 * that changes while it is read is refused: its manifest would describe neither version.
 */
export async function computeManifest(
  path: string,
  options: { chunkSize?: number; signal?: AbortSignal; onProgress?: (hashedBytes: number) => void } = {},
): Promise<HashedFile> {
  const chunkSize = options.chunkSize ?? TRANSFER_CHUNK_BYTES;
  const before = await statFile(path);
  const manifest = await fileManifest(path, before.size, { ...options, chunkSize });
  const after = await statFile(path);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
    throw new TetherError('CONFLICT', `${path} changed while it was being read; try again once nothing writes to it`);
  }
  return { manifest, mtimeMs: before.mtimeMs };
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
