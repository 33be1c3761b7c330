import { createCipheriv, createDecipheriv, createHash, randomBytes, type CipherGCM, type Hash } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { TetherError } from '#contract/errors';

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Small reads, reused: large fresh buffers cost far more than the bytes they hold. */
const READ_PIECE = 64 * 1024;
/** Ciphertext is written to disk in runs of about this many bytes. */
const WRITE_GATHER = 1024 * 1024;

/** A fresh per-transfer key: 32 random bytes, kept (base64) in the transfer's row until it is purged. */
export function newSpoolKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * Where a transfer's chunks wait between sender and receiver: one file per chunk under
 * `<spoolDir>/<transferId>/`, each sealed with AES-256-GCM under the transfer's own key
 * (random IV per chunk; the transfer id and chunk index are authenticated data, so a
 * chunk file cannot be swapped for another). Only whole chunks become visible: a chunk is
 * written to a temporary file, checked against the manifest, then renamed.
 *
 * Like the database (WAL, synchronous=NORMAL), the spool survives the process being
 * killed but is not synced chunk by chunk: a power cut may lose a held chunk, which its
 * authentication then reports as damaged (the transfer fails clearly) — wrong bytes are
 * never delivered.
 */
export class TransferSpool {
  constructor(readonly root: string) {}

  dirOf(transferId: string): string {
    return join(this.root, transferId);
  }

  chunkPath(transferId: string, index: number): string {
    return join(this.dirOf(transferId), `${index}.chunk`);
  }

  /** Starts writing chunk `index`; feed it with `write`, then `seal` (or `discard`). */
  async openChunk(transferId: string, index: number, key: string): Promise<ChunkWriter> {
    await mkdir(this.dirOf(transferId), { recursive: true, mode: 0o700 });
    const tmp = join(this.dirOf(transferId), `.${index}.${randomBytes(4).toString('hex')}.tmp`);
    const file = await open(tmp, 'w', 0o600);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(key, 'base64'), iv);
    cipher.setAAD(aad(transferId, index));
    await file.write(iv);
    return new ChunkWriter(file, tmp, this.chunkPath(transferId, index), cipher);
  }

  /**
   * The plaintext of a held chunk, as a stream of small pieces (memory stays flat). The
   * file's authentication is checked at its end and the last piece is held back until it
   * passed: a damaged or tampered chunk never reaches the receiver whole — the stream
   * fails (CHECKSUM_MISMATCH) and `onDamaged` hears of it. A missing chunk is CHUNK_NOT_READY.
   */
  async streamChunk(transferId: string, index: number, key: string, onDamaged: (err: TetherError) => void): Promise<{ length: number; stream: Readable }> {
    let file: FileHandle;
    try {
      file = await open(this.chunkPath(transferId, index), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new TetherError('CHUNK_NOT_READY', `chunk ${index} is not held by the server`);
      throw err;
    }
    const { size } = await file.stat();
    const iv = Buffer.alloc(IV_BYTES);
    const tag = Buffer.alloc(TAG_BYTES);
    if (size < IV_BYTES + TAG_BYTES) {
      await file.close();
      const err = damaged(index);
      onDamaged(err);
      throw err;
    }
    await file.read(iv, 0, IV_BYTES, 0);
    await file.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(key, 'base64'), iv);
    decipher.setAAD(aad(transferId, index));
    decipher.setAuthTag(tag);
    const end = size - TAG_BYTES;
    async function* plaintext(): AsyncGenerator<Buffer> {
      const buffer = Buffer.allocUnsafe(READ_PIECE);
      let held: Buffer | undefined;
      try {
        for (let at = IV_BYTES; at < end; ) {
          const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, end - at), at);
          if (bytesRead === 0) throw damaged(index);
          at += bytesRead;
          const piece = decipher.update(buffer.subarray(0, bytesRead));
          if (held) yield held;
          held = piece;
        }
        try {
          decipher.final();
        } catch {
          throw damaged(index);
        }
        if (held) yield held;
      } catch (err) {
        if (err instanceof TetherError) onDamaged(err);
        throw err;
      } finally {
        await file.close();
      }
    }
    return { length: end - IV_BYTES, stream: Readable.from(plaintext(), { objectMode: false }) };
  }

  /** Deletes held chunks [from, to): the receiver verified them. */
  async dropChunks(transferId: string, from: number, to: number): Promise<void> {
    for (let i = from; i < to; i += 1) await unlinkIfPresent(this.chunkPath(transferId, i));
  }

  /** Removes everything the transfer left in the spool. */
  async purge(transferId: string): Promise<void> {
    await rm(this.dirOf(transferId), { recursive: true, force: true });
  }
}

/** One chunk being written: encrypts and hashes as bytes arrive, so memory stays flat. */
export class ChunkWriter {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private closed = false;
  /** Plaintext gathered before it is hashed and encrypted. */
  private readonly staging = Buffer.allocUnsafe(READ_PIECE);
  private staged = 0;
  /** Ciphertext waiting to be written: pieces arrive small, the disk likes them gathered. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private position: number;

  constructor(
    private readonly file: FileHandle,
    private readonly tmpPath: string,
    private readonly finalPath: string,
    private readonly cipher: CipherGCM,
  ) {
    this.position = IV_BYTES;
  }

  async write(piece: Buffer): Promise<void> {
    this.bytes += piece.length;
    for (let rest = piece; rest.length; ) {
      const n = rest.copy(this.staging, this.staged);
      this.staged += n;
      rest = rest.subarray(n);
      if (this.staged === this.staging.length) this.encryptStaged();
    }
    if (this.pendingBytes >= WRITE_GATHER) await this.flush();
  }

  /** Hashes and encrypts what is staged: one call per 64 KiB, not per 16 KiB TLS record. */
  private encryptStaged(): void {
    const plain = this.staging.subarray(0, this.staged);
    this.hash.update(plain);
    this.pending.push(this.cipher.update(plain));
    this.pendingBytes += plain.length;
    this.staged = 0;
  }

  private async flush(): Promise<void> {
    if (!this.pendingBytes) return;
    const pieces = this.pending;
    const length = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    await this.file.writev(pieces, this.position);
    this.position += length;
  }

  /**
   * Finishes the chunk: it must hash to `expectedSha256` (else CHECKSUM_MISMATCH and
   * nothing is kept); then it is renamed into place.
   */
  async seal(expectedSha256: string, index: number): Promise<void> {
    if (this.staged) this.encryptStaged();
    const sha256 = this.hash.digest('hex');
    if (sha256 !== expectedSha256) {
      await this.discard();
      throw new TetherError('CHECKSUM_MISMATCH', `chunk ${index} does not match its hash in the manifest; it was not kept`, { chunk: index });
    }
    this.pending.push(this.cipher.final(), this.cipher.getAuthTag());
    this.pendingBytes += TAG_BYTES;
    await this.flush();
    await this.file.close();
    this.closed = true;
    await rename(this.tmpPath, this.finalPath);
  }

  /** Drops a chunk that did not arrive whole (or failed its hash). */
  async discard(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.file.close();
    }
    await unlinkIfPresent(this.tmpPath);
  }
}

async function unlinkIfPresent(path: string): Promise<void> {
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}

function aad(transferId: string, index: number): Buffer {
  return Buffer.from(`${transferId}/${index}`);
}

function damaged(index: number): TetherError {
  return new TetherError('CHECKSUM_MISMATCH', `the server's copy of chunk ${index} is damaged; the transfer cannot continue`, { chunk: index });
}
