import { z } from 'zod';
import { TetherError } from './errors.ts';

/**
 * File transfers between the console and a device, relayed by the server: the vocabulary
 * shared by all three programs. The sender declares a manifest (size, whole-file SHA-256
 * and one SHA-256 per chunk) before any byte moves; bytes go up with tus and come down with
 * HTTP Range requests, one chunk at a time; the receiver verifies every chunk and the
 * whole file before the file appears under its final name. See docs/protocol.md.
 */

/** Bytes per chunk: the unit of upload requests, download ranges, hashing and resume. */
export const TRANSFER_CHUNK_BYTES = 4 * 1024 * 1024;
/**
 * Chunks a sender puts in one tus PATCH (64 MiB): the bytes do not wait for a new request
 * between chunks, and a request the server refuses part-way is read to its end (so the
 * sender hears the real answer) at a bounded cost.
 */
export const TRANSFER_PATCH_CHUNKS = 16;
/** The suffix of a file being received; it is renamed only once the whole file verified. */
export const PARTIAL_SUFFIX = '.tether-part';

/** `to-device`: console → device (configuration, calibration, service tools). `from-device`: logs, bundles, exports. */
export const TRANSFER_DIRECTIONS = ['to-device', 'from-device'] as const;
export const TransferDirectionSchema = z.enum(TRANSFER_DIRECTIONS);
export type TransferDirection = z.infer<typeof TransferDirectionSchema>;

/**
 * queued (waiting for a slot: per-device and overall limits) → running ⇄ paused →
 * completed | failed | canceled. A failed transfer can be retried; it resumes from the
 * last chunk the receiver verified.
 */
export const TRANSFER_STATES = ['queued', 'running', 'paused', 'completed', 'failed', 'canceled'] as const;
export const TransferStateSchema = z.enum(TRANSFER_STATES);
export type TransferState = z.infer<typeof TransferStateSchema>;
export const TERMINAL_TRANSFER_STATES: readonly TransferState[] = ['completed', 'failed', 'canceled'];

export const Sha256HexSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex SHA-256');

/** What the sender declares before sending: the receiver checks every byte against it. */
export const TransferManifestSchema = z
  .object({
    size: z.number().int().nonnegative(),
    sha256: Sha256HexSchema,
    chunkSize: z.number().int().min(64 * 1024).max(64 * 1024 * 1024),
    /** One per chunk, in order; none for an empty file. */
    chunks: z.array(Sha256HexSchema).max(1_000_000),
  })
  .strict()
  .refine((m) => m.chunks.length === chunkCount(m.size, m.chunkSize), { message: 'chunks must hold one hash per chunk of size/chunkSize', path: ['chunks'] });
export type TransferManifest = z.infer<typeof TransferManifestSchema>;

/** How many chunks a file of `size` bytes has (0 for an empty file). */
export function chunkCount(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** How many whole chunks the first `bytes` of a file hold (the last chunk may be short). */
export function chunksWithin(bytes: number, size: number, chunkSize: number): number {
  return bytes >= size ? chunkCount(size, chunkSize) : Math.floor(bytes / chunkSize);
}

/** The byte range [start, end) of chunk `index`. */
export function chunkRange(index: number, size: number, chunkSize: number): { start: number; end: number } {
  const start = index * chunkSize;
  return { start, end: Math.min(size, start + chunkSize) };
}

/** An entry of a device folder, as the remote file browser shows it. */
export const FileEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  type: z.enum(['file', 'directory']),
  size: z.number().int().nonnegative(),
  modifiedAt: z.string(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

/** The longest device path accepted anywhere. */
export const MAX_DEVICE_PATH = 1024;
/** A device path as it travels: absolute, POSIX, checked against the roots by `checkDevicePath`. */
export const DevicePathSchema = z.string().min(1).max(MAX_DEVICE_PATH);

/**
 * Checks a device path against the model's allowed roots without touching any file
 * system: absolute, `/`-separated, no `.`/`..`/empty segments, no NUL or backslash, and
 * inside one of `roots` (a root itself is allowed, for listing). Returns the path as given
 * (it is already normal when it passes). The agent checks again on its disk (symlinks).
 */
export function checkDevicePath(path: string, roots: readonly string[]): string {
  const refuse = (why: string): never => {
    throw new TetherError('PATH_NOT_ALLOWED', `${JSON.stringify(path.slice(0, 200))} is not allowed: ${why}`, { path: path.slice(0, MAX_DEVICE_PATH), roots: [...roots] });
  };
  if (typeof path !== 'string' || path.length === 0) refuse('empty');
  if (path.length > MAX_DEVICE_PATH) refuse(`longer than ${MAX_DEVICE_PATH} characters`);
  if (!path.startsWith('/')) refuse('not an absolute path');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\\]/.test(path)) refuse('control characters or backslashes');
  const segments = path.split('/').slice(1);
  if (segments.some((s) => s === '' || s === '.' || s === '..')) refuse('empty, "." or ".." segments');
  if (!roots.some((root) => path === root || path.startsWith(`${root}/`))) refuse(`outside the allowed folders (${roots.join(', ')})`);
  return path;
}

/** The last segment of a device path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
