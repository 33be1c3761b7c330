import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { TetherError } from '#contract/errors';
import { chunkCount, type TransferManifest } from '#contract/transfers';

/** Bytes read at a time, into one reused buffer (fresh large buffers cost more than hashing them). */
const READ_BYTES = 1024 * 1024;

/** Below this size a second thread costs more than it saves: both hashes are taken in one pass. */
const SECOND_THREAD_FROM_BYTES = 16 * 1024 * 1024;

/**
 * The whole file's SHA-256 on a thread of its own, reading the file itself: the manifest's
 * two hashes (per chunk, whole) then take one core each, and the pass before any byte
 * moves takes about half the time on two cores (docs/benchmarks.md). An eval'd worker: no
 * file of its own to bundle (Electron) or to load through tsx (the agent).
 */
const WHOLE_HASH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { path, size, readBytes } = workerData;
const hash = createHash('sha256');
const buffer = Buffer.allocUnsafe(readBytes);
const fd = openSync(path, 'r');
let read = 0;
try {
  while (read < size) {
    const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - read), read);
    if (n === 0) break;
    hash.update(buffer.subarray(0, n));
    read += n;
  }
} finally {
  closeSync(fd);
}
parentPort.postMessage({ read, sha256: hash.digest('hex') });
`;

function wholeFileSha256(path: string, size: number, signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WHOLE_HASH_WORKER, { eval: true, workerData: { path, size, readBytes: READ_BYTES } });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => {
      void worker.terminate();
      settle(() => reject(signal?.reason instanceof Error ? signal.reason : new TetherError('COMMAND_FAILED', 'aborted')));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', ({ read, sha256 }: { read: number; sha256: string }) => {
      settle(() => (read === size ? resolve(sha256) : reject(changed(path))));
    });
    worker.once('error', (err) => settle(() => reject(new TetherError('CONFLICT', `${path} could not be read whole: ${err.message}`))));
    worker.once('exit', (code) => settle(() => reject(new TetherError('INTERNAL', `the hashing thread for ${path} stopped (exit ${code})`))));
  });
}

/**
 * A file's SHA-256 taken on a thread of its own while the file is being written (a
 * download's partial file): `advance` says how far it is written, `digest` waits for the
 * hash of the first `upTo` bytes. The receiving thread only writes; the bytes are read back
 * from the page cache over there.
 */
const GROWING_HASH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const hash = createHash('sha256');
const buffer = Buffer.allocUnsafe(workerData.readBytes);
const fd = openSync(workerData.path, 'r');
let hashed = 0;
const upTo = (end) => {
  while (hashed < end) {
    const n = readSync(fd, buffer, 0, Math.min(buffer.length, end - hashed), hashed);
    if (n === 0) throw new Error('the file ended at byte ' + hashed + ', before byte ' + end);
    hash.update(buffer.subarray(0, n));
    hashed += n;
  }
};
parentPort.on('message', ({ advance, digest }) => {
  if (advance !== undefined) upTo(advance);
  if (digest !== undefined) {
    upTo(digest);
    closeSync(fd);
    parentPort.postMessage({ sha256: hash.digest('hex') });
  }
});
`;

export class GrowingFileHash {
  private readonly worker: Worker;
  private readonly failed: Promise<never>;
  private stopped = false;

  constructor(private readonly path: string) {
    this.worker = new Worker(GROWING_HASH_WORKER, { eval: true, workerData: { path, readBytes: READ_BYTES } });
    this.failed = new Promise<never>((_resolve, reject) => {
      this.worker.once('error', (err) => reject(new TetherError('CONFLICT', `${path} could not be read back for its hash: ${err.message}`)));
      this.worker.once('exit', (code) => reject(new TetherError('INTERNAL', `the hashing thread for ${path} stopped (exit ${code})`)));
    });
    this.failed.catch(() => undefined);
  }

  /** Bytes [0, upTo) are written: they may be hashed now. */
  advance(upTo: number): void {
    if (!this.stopped) this.worker.postMessage({ advance: upTo });
  }

  /** The SHA-256 of bytes [0, upTo) (all written); the hasher is done after it (`stop` is called). */
  async digest(upTo: number): Promise<string> {
    if (this.stopped) throw new TetherError('INTERNAL', `the hash of ${this.path} was stopped`);
    const answer = new Promise<string>((resolve) => this.worker.once('message', ({ sha256 }: { sha256: string }) => resolve(sha256)));
    this.worker.postMessage({ digest: upTo });
    try {
      return await Promise.race([answer, this.failed]);
    } finally {
      this.stop();
    }
  }

  /** Ends the thread; its owner calls it when done (PartialDownload.close), else the thread keeps the process alive. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    void this.worker.terminate();
  }
}

const changed = (path: string) => new TetherError('CONFLICT', `${path} changed while it was being read; try again once nothing writes to it`);

/**
 * The manifest of a file of `size` bytes: the SHA-256 of every `chunkSize` chunk and of the
 * whole, each in one read pass with flat memory (the whole file's on a second thread for
 * large files). `onProgress` hears the bytes hashed per chunk so far. CONFLICT when the file
 * is not `size` bytes long to the end of the pass (it changed while it was read).
 */
export async function fileManifest(
  path: string,
  size: number,
  options: { chunkSize: number; signal?: AbortSignal | undefined; onProgress?: ((bytesRead: number) => void) | undefined },
): Promise<TransferManifest> {
  const { chunkSize, signal } = options;
  signal?.throwIfAborted();
  const apart = size >= SECOND_THREAD_FROM_BYTES;
  // the second thread stops with the caller's signal, or when this pass fails
  const stop = new AbortController();
  const wholeElsewhere = apart ? wholeFileSha256(path, size, signal ? AbortSignal.any([signal, stop.signal]) : stop.signal) : undefined;
  // it may fail while this pass still runs: awaited below, never unhandled
  wholeElsewhere?.catch(() => undefined);
  const whole = apart ? undefined : createHash('sha256');
  const chunks: string[] = [];
  const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, chunkSize)));
  const file = await open(path, 'r');
  let read = 0;
  try {
    for (let index = 0; index < chunkCount(size, chunkSize); index += 1) {
      const chunk = createHash('sha256');
      const end = Math.min(size, (index + 1) * chunkSize);
      while (read < end) {
        signal?.throwIfAborted();
        const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, end - read), read);
        if (bytesRead === 0) throw changed(path);
        const piece = buffer.subarray(0, bytesRead);
        chunk.update(piece);
        whole?.update(piece);
        read += bytesRead;
        options.onProgress?.(read);
      }
      chunks.push(chunk.digest('hex'));
    }
    if ((await file.stat()).size !== size) throw changed(path);
  } catch (err) {
    stop.abort(err);
    throw err;
  } finally {
    await file.close();
  }
  const sha256 = whole ? whole.digest('hex') : await wholeElsewhere!;
  return { size, sha256, chunkSize, chunks };
}
