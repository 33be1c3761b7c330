import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TetherError } from '#contract/errors';
import { chunkCount, chunkRange } from '#contract/transfers';
import type { TransferRow } from '../store/schema.ts';
import { manifestOf, uploadedChunks } from './views.ts';

/** One chunk on its way to the receiver. */
export interface ChunkContent {
  index: number;
  start: number;
  /** Exclusive. */
  end: number;
  /** The whole file's size. */
  size: number;
  sha256: string;
  body: Readable;
}

/**
 * Which chunk a `Range: bytes=start-end` header asks for. A request is one whole chunk:
 * `start` on a chunk boundary, `end` (inclusive) that chunk's last byte or left open.
 */
export function chunkForRange(range: string | undefined, size: number, chunkSize: number): number {
  const total = chunkCount(size, chunkSize);
  const match = /^bytes=(\d{1,15})-(\d{0,15})$/.exec(range?.trim() ?? '');
  const usage = 'ask for one chunk per request: Range: bytes=<index·chunkSize>-<last byte of that chunk>';
  if (!match) throw new TetherError('VALIDATION_FAILED', `missing or malformed Range header; ${usage}`);
  const start = Number(match[1]);
  if (start % chunkSize !== 0 || start / chunkSize >= total) {
    throw new TetherError('VALIDATION_FAILED', `byte ${start} does not start a chunk of this ${size}-byte file; ${usage}`);
  }
  const index = start / chunkSize;
  const { end } = chunkRange(index, size, chunkSize);
  if (match[2] !== '' && Number(match[2]) !== end - 1) {
    throw new TetherError('VALIDATION_FAILED', `chunk ${index} ends at byte ${end - 1}; ${usage}`);
  }
  return index;
}

/**
 * Waits (up to `waitMs`) until chunk `index` is held, or — for the very next chunk to
 * arrive (`ask.next`) or the one after it — until `ask.take` hands over the sender's live
 * stream of it (the stream-through when sender and receiver are online together). `load`
 * re-reads the transfer; `moved` resolves when it may have changed. Throws
 * TRANSFER_NOT_ACTIVE when it stops running, CHUNK_NOT_READY when the wait runs out.
 */
export async function waitForChunk(
  load: () => Promise<TransferRow>,
  range: string | undefined,
  moved: (signal: AbortSignal) => Promise<void>,
  waitMs: number,
  signal: AbortSignal,
  ask?: { next: (row: TransferRow) => number; take: (index: number, waitMs: number, signal: AbortSignal) => Promise<Readable | undefined> },
): Promise<{ row: TransferRow; index: number; live?: Readable }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const row = await load();
    if (row.state !== 'running') throw new TetherError('TRANSFER_NOT_ACTIVE', `the transfer is ${row.state}`, { state: row.state });
    const manifest = manifestOf(row);
    if (manifest) {
      const index = chunkForRange(range, manifest.size, manifest.chunkSize);
      if (index < Number(row.delivered_chunks)) {
        throw new TetherError('CONFLICT', `chunk ${index} was acknowledged already and is no longer held`, { deliveredChunks: Number(row.delivered_chunks) });
      }
      if (index < uploadedChunks(row)) return { row, index };
    }
    const left = deadline - Date.now();
    if (left <= 0 || signal.aborted) {
      throw new TetherError('CHUNK_NOT_READY', manifest ? 'that chunk has not reached the server yet; ask again' : 'the sender has not declared the file yet; ask again', {
        uploadedBytes: Number(row.uploaded_bytes),
      });
    }
    // a chunk committed on another node is not signalled here: look again at least every second
    const wake = new AbortController();
    const stop = () => wake.abort();
    signal.addEventListener('abort', stop, { once: true });
    const step = Math.min(left, 1000);
    const next = manifest && ask ? chunkForRange(range, manifest.size, manifest.chunkSize) : -1;
    // the next chunk to arrive, or the one after it (asked for while the next one streams)
    const first = ask ? ask.next(row) : -1;
    const asking = ask && (next === first || next === first + 1) ? ask.take(next, step, wake.signal) : undefined;
    await Promise.race([moved(wake.signal), sleep(step, undefined, { signal: wake.signal }).catch(() => undefined), ...(asking ? [asking] : [])]);
    wake.abort();
    signal.removeEventListener('abort', stop);
    // settled by now (its wait was aborted): a stream handed over in the same instant must not be lost
    const live = await asking;
    if (live) {
      if (signal.aborted) live.destroy();
      else return { row, index: next, live };
    }
  }
}

/**
 * Paces a transfer's content responses to `bytesPerSecond` (0: no cap). The budget is per
 * transfer and goes to its responses in the order they began: a chunk asked for ahead
 * waits for the one before it, so under a cap chunks still arrive (and are acknowledged)
 * one after another instead of all finishing together at the end.
 */
export class BandwidthLimiter {
  private readonly nextFree = new Map<string, number>();
  /** Per transfer: settles when its latest paced response has ended. */
  private readonly lanes = new Map<string, Promise<void>>();

  constructor(private readonly bytesPerSecond: number) {}

  pace(transferId: string, body: Readable): Readable {
    if (this.bytesPerSecond <= 0) return body;
    const rate = this.bytesPerSecond;
    const slice = Math.max(1024, Math.min(64 * 1024, Math.floor(rate / 10)));
    const { nextFree, lanes } = this;
    const before = lanes.get(transferId);
    let release: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (release = resolve));
    const lane = before ? before.then(() => ended) : ended;
    lanes.set(transferId, lane);
    const finish = () => {
      release();
      if (lanes.get(transferId) === lane) lanes.delete(transferId);
    };
    const paced = Readable.from((async function* paced() {
      try {
        await before;
        for await (const data of body as AsyncIterable<Buffer>) {
          for (let at = 0; at < data.length; at += slice) {
            const piece = data.subarray(at, at + slice);
            const now = Date.now();
            if (nextFree.size > 256) for (const [id, at] of nextFree) if (at < now) nextFree.delete(id); // ended transfers
            const start = Math.max(now, nextFree.get(transferId) ?? now);
            nextFree.set(transferId, start + (piece.length / rate) * 1000);
            if (start > now) await sleep(start - now);
            yield piece;
          }
        }
      } finally {
        finish();
      }
    })(), { objectMode: false });
    // a response closed while it waits for its turn: the generator's finally may never run, nor
    // would its loop end the body (as it does when the response is cut mid-way)
    paced.once('close', () => {
      finish();
      if (!body.readableEnded) body.destroy();
    });
    return paced;
  }
}
