import { createHash, type Hash } from 'node:crypto';
import type { PassThrough, Readable } from 'node:stream';
import { DataStore, Upload } from '@tus/server';
import { TetherError } from '#contract/errors';
import { TRANSFER_PATCH_CHUNKS, chunkRange } from '#contract/transfers';
import { type ChunkHandoff, STREAM_WINDOW } from './handoff.ts';
import type { TransferSpool } from './spool.ts';

/** What an upload may write to: the declared manifest, the key, and how far it got. */
export interface UploadTarget {
  size: number;
  chunkSize: number;
  chunks: readonly string[];
  key: string;
  uploadedBytes: number;
  createdAt: number;
}

/** The transfer records behind the store (the transfer service). */
export interface UploadLedger {
  /** The upload of a running transfer with a manifest; TetherError otherwise. */
  uploadTarget(transferId: string): Promise<UploadTarget>;
  /** Records that chunk `index` is held, moving the offset to `uploadedBytes`. */
  commitChunk(transferId: string, index: number, uploadedBytes: number): Promise<void>;
}

/**
 * The tus data store of transfers: an upload is a transfer (upload id = transfer id,
 * created with its manifest, never by tus POST), and its bytes land in the encrypted
 * spool chunk by chunk. Each chunk is checked against the manifest before it counts, and
 * only whole chunks count: a PATCH cut short leaves the offset at the last whole chunk,
 * which tus clients resume from.
 */
export class EncryptedSpoolStore extends DataStore {
  constructor(
    private readonly spool: TransferSpool,
    private readonly ledger: UploadLedger,
    /** Absent or off: every chunk is spooled. */
    private readonly handoff?: ChunkHandoff,
  ) {
    super();
    this.extensions = [];
  }

  override create(): Promise<Upload> {
    return Promise.reject(new TetherError('METHOD_NOT_ALLOWED', 'uploads are created with their transfer; PATCH /uploads/<transferId> from its offset'));
  }

  override remove(): Promise<void> {
    return Promise.reject(new TetherError('METHOD_NOT_ALLOWED', 'cancel the transfer instead of deleting its upload'));
  }

  override async getUpload(id: string): Promise<Upload> {
    const target = await this.ledger.uploadTarget(id);
    return new Upload({ id, size: target.size, offset: this.offsetOf(id, target.uploadedBytes), creation_date: new Date(target.createdAt).toISOString() });
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    const target = await this.ledger.uploadTarget(id);
    const expected = this.offsetOf(id, target.uploadedBytes);
    if (offset !== expected || (offset % target.chunkSize !== 0 && offset !== target.size)) {
      throw new TetherError('CONFLICT', `the upload continues at byte ${expected}`);
    }
    let uploaded = offset;
    let index = offset / target.chunkSize;
    let sink: ChunkSink | undefined;
    let lost = false;
    /** The answer owed once the body is read: thrown out of the loop, any error would reach the client as "request aborted". */
    let failure: TetherError | undefined;
    let drained = 0;
    try {
      for await (const data of stream as AsyncIterable<Buffer>) {
        // the rest of a body whose chunk could not be taken: read and dropped (up to one PATCH's
        // worth as senders cut them), so the client gets its real answer, not a broken connection
        if (lost) {
          drained += data.length;
          if (failure && drained > target.chunkSize * TRANSFER_PATCH_CHUNKS) throw failure;
          continue;
        }
        let rest = data;
        try {
          while (rest.length > 0) {
            if (uploaded >= target.size) throw new TetherError('PAYLOAD_TOO_LARGE', 'more bytes than the manifest declared');
            const { end } = chunkRange(index, target.size, target.chunkSize);
            sink ??= await this.openSink(id, index, target.key);
            const piece = rest.subarray(0, end - uploaded - sink.bytes);
            rest = rest.subarray(piece.length);
            await sink.write(piece);
            if (uploaded + sink.bytes === end) {
              const finishing = sink;
              sink = undefined;
              await finishing.finish(target.chunks[index]!, index, end);
              uploaded = end;
              index += 1;
            }
          }
        } catch (err) {
          if (err instanceof ReceiverLost) failure = err.sendAgain;
          else if (err instanceof TetherError) failure = err;
          else throw err;
          await sink?.discard();
          sink = undefined;
          lost = true;
        }
      }
    } finally {
      // a chunk that did not arrive whole is dropped: the client sends it again from its start
      await sink?.discard();
    }
    if (failure) throw failure;
    // the sender is done after this answer: its last chunk must be confirmed first (or sent again)
    if (uploaded === target.size && !lost) await this.handoff?.confirmed(id);
    return uploaded;
  }

  private offsetOf(id: string, committed: number): number {
    return this.handoff ? this.handoff.offsetOf(id, committed) : committed;
  }

  /** A newer request for the upload arrived: the one before it must stop waiting on a receiver. */
  supersede(transferId: string): void {
    this.handoff?.supersede(transferId);
  }

  /** Where chunk `index` goes: straight to a receiver asking for it, else the spool. */
  private async openSink(id: string, index: number, key: string): Promise<ChunkSink> {
    // chunks before this one that went straight through count once their receiver confirms them
    const confirmed = async (keep: number) => {
      try {
        await this.handoff?.confirmed(id, keep);
      } catch (err) {
        if (!(err instanceof TetherError)) throw err;
        throw new ReceiverLost(err.message, err);
      }
    };
    await confirmed(STREAM_WINDOW - 1);
    const live = this.handoff ? await this.handoff.offer(id, index) : undefined;
    if (live) return new LiveChunk(live, id, this.handoff!);
    // a spooled chunk counts at once: every chunk before it must have counted
    await confirmed(0);
    const writer = await this.spool.openChunk(id, index, key);
    if (this.handoff) this.handoff.stats.spooled += 1;
    return {
      get bytes() {
        return writer.bytes;
      },
      write: (piece) => writer.write(piece),
      finish: async (sha256, at, uploadedBytes) => {
        await writer.seal(sha256, at);
        await this.ledger.commitChunk(id, at, uploadedBytes);
      },
      discard: () => writer.discard(),
    };
  }
}

/**
 * A chunk passed straight through did not reach its receiver, or the one before it was
 * never confirmed: the rest of the request is read and dropped, and the sender continues
 * where it must — after a cut-off chunk at the answered offset, after an unconfirmed one
 * told so (`sendAgain`, a CONFLICT that sends it to its last confirmed offset).
 */
class ReceiverLost extends Error {
  constructor(
    message: string,
    readonly sendAgain?: TetherError,
  ) {
    super(message);
  }
}

/**
 * What the receiver of a live chunk gets when its sender stops before the chunk is whole: a
 * response not begun answers 409 CHUNK_NOT_READY (the receiver asks again and gets the chunk
 * when it is sent again); one already under way is cut off.
 */
function senderStopped(): TetherError {
  return new TetherError('CHUNK_NOT_READY', 'the sender stopped before this chunk was whole; ask for it again');
}

/** Bytes of a live chunk written to its receiver at a time. */
const LIVE_RUN_BYTES = 256 * 1024;

/** One chunk on its way in: written, then finished (kept) or discarded. */
interface ChunkSink {
  readonly bytes: number;
  write(piece: Buffer): Promise<void>;
  /** The whole chunk arrived: check it against `sha256` and keep it (throws if it does not match). */
  finish(sha256: string, index: number, uploadedBytes: number): Promise<void>;
  discard(): Promise<void>;
}

/**
 * A chunk passed straight into a receiver's response. Hashed on the way; its last piece is
 * held back until the hash matched, so a damaged chunk never reaches the receiver whole.
 * It counts (the sender's offset moves) only when the receiver acknowledges it.
 */
class LiveChunk implements ChunkSink {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  private held: Buffer | undefined;
  private gathering: Buffer[] = [];
  private gathered = 0;
  private readonly stopWriting: () => void;

  constructor(
    private readonly live: PassThrough,
    private readonly transferId: string,
    private readonly handoff: ChunkHandoff,
  ) {
    // a newer upload request for this transfer ends this one's wait on the receiver
    this.stopWriting = handoff.writing(transferId, () => live.destroy(senderStopped()));
  }

  async write(piece: Buffer): Promise<void> {
    this.bytes += piece.length;
    this.hash.update(piece);
    // the upload's small pieces (one TLS record each) gathered into runs: one TLS write per run
    // instead of one per piece cut the server's TLS write time by about two thirds (profiled: docs/benchmarks.md)
    this.gathering.push(piece);
    this.gathered += piece.length;
    if (this.gathered < LIVE_RUN_BYTES) return;
    const run = this.takeGathered();
    const previous = this.held;
    this.held = run;
    if (previous) await this.push(previous);
  }

  private takeGathered(): Buffer {
    const run = this.gathering.length === 1 ? this.gathering[0]! : Buffer.concat(this.gathering, this.gathered);
    this.gathering = [];
    this.gathered = 0;
    return run;
  }

  async finish(sha256: string, index: number, end: number): Promise<void> {
    if (this.hash.digest('hex') !== sha256) {
      this.stopWriting();
      this.live.destroy(new TetherError('CHECKSUM_MISMATCH', `chunk ${index} does not match its hash in the manifest`));
      throw new TetherError('CHECKSUM_MISMATCH', `chunk ${index} does not match its hash in the manifest; it was not passed on`, { chunk: index });
    }
    if (this.held) await this.push(this.held);
    this.held = undefined;
    if (this.gathered) await this.push(this.takeGathered());
    this.stopWriting();
    // counted once the receiver confirms it; the next chunk waits for that
    this.handoff.streamedWhole(this.transferId, index, end);
    this.live.end();
  }

  discard(): Promise<void> {
    this.stopWriting();
    this.live.destroy(senderStopped());
    return Promise.resolve();
  }

  /** Writes with backpressure: the receiver's pace is the sender's pace. */
  private async push(piece: Buffer): Promise<void> {
    const gone = () => new ReceiverLost('the receiver went away in the middle of the chunk');
    if (this.live.destroyed) throw gone();
    if (this.live.write(piece)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        this.live.off('drain', onDrain);
        this.live.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(gone());
      this.live.once('drain', onDrain);
      this.live.once('close', onClose);
    });
  }
}
