import { PassThrough } from 'node:stream';
import { TetherError } from '#contract/errors';

/** Chunks passed straight through that may await their receiver's acknowledgement at once. */
export const STREAM_WINDOW = 4;

/** Asks a receiver may have waiting per transfer: the chunk it needs next and the one after it. */
export const ASKS_AHEAD = 2;

export interface HandoffTimings {
  /** How long a writer waits for the receiver to ask for the next chunk, when it has been asking. */
  nextAskMs: number;
  /** A receiver counts as "with us" this long after its last ask or acknowledgement. */
  attachedMs: number;
  /** How long a chunk passed straight through may wait for the receiver's acknowledgement. */
  ackWaitMs: number;
}

const DEFAULT_TIMINGS: HandoffTimings = { nextAskMs: 2_000, attachedMs: 10_000, ackWaitMs: 30_000 };

/** Hands a receiver's ask its live stream, or undefined (the ask is over). */
type Give = (live: PassThrough | undefined) => void;

interface Unconfirmed {
  index: number;
  /** Where the chunk ends: the offset the sender was told to go on at. */
  end: number;
  confirmed: Promise<void>;
  settle: (ok: boolean) => void;
}

/**
 * The stream-through: when the receiver is already asking for the chunk the sender is
 * about to upload, the chunk goes from the upload straight into the receiver's response —
 * never encrypted to disk and read back, which is half the server's work per byte. Only
 * the receiver's acknowledgement (chunk verified and stored at its end) makes the chunk
 * count: at most `STREAM_WINDOW` chunks wait for it, and one never confirmed sends the
 * sender back to the last confirmed offset — so a chunk lost on the way (receiver gone,
 * damaged) is simply sent again, and what the server counts as sent is always held
 * somewhere. When the receiver is not there, the chunk is spooled as before. In memory,
 * per node: a cluster whose two ends land on different nodes spools.
 */
export class ChunkHandoff {
  /** Chunks passed straight through and chunks that went to the spool, since the start (for operators and tests). */
  readonly stats = { streamed: 0, spooled: 0 };
  private readonly timings: HandoffTimings;
  /** Per transfer, the receiver's asks by chunk index (at most `ASKS_AHEAD`). */
  private readonly asking = new Map<string, Map<number, Give>>();
  private readonly unconfirmed = new Map<string, Unconfirmed[]>();
  /** Per transfer: chunks [0, n) went through whole and matched their hashes (n). */
  private readonly streamed = new Map<string, number>();
  /** The upload writing into a live stream now, to stop when a newer upload request replaces it. */
  private readonly writers = new Map<string, () => void>();
  private readonly lastSeen = new Map<string, number>();
  /** Per transfer: the first chunk dropped unconfirmed while an upload was going on past it. */
  private readonly dropped = new Map<string, number>();
  private readonly arrivals = new Map<string, Set<() => void>>();

  constructor(timings: Partial<HandoffTimings> = {}) {
    this.timings = { ...DEFAULT_TIMINGS, ...timings };
  }

  /**
   * The receiver asks for chunk `index`, not held yet: resolves with its live stream if the
   * sender starts that chunk within `waitMs`, else undefined (the caller then looks for
   * the chunk in the spool again). A receiver may ask for the chunk after the one on its
   * way (`ASKS_AHEAD` asks per transfer), so the sender goes from one chunk into the next
   * without waiting for a request; a newer ask for the same chunk replaces an older one
   * (whose connection is gone).
   */
  ask(transferId: string, index: number, waitMs: number, signal: AbortSignal): Promise<PassThrough | undefined> {
    this.seen(transferId);
    return new Promise((resolve) => {
      const asks = this.asking.get(transferId) ?? new Map<number, Give>();
      const done: Give = (live) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (asks.get(index) === done) asks.delete(index);
        if (!asks.size && this.asking.get(transferId) === asks) this.asking.delete(transferId);
        resolve(live);
      };
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), waitMs);
      asks.get(index)?.(undefined);
      // asks for chunks the sender went past are dead: the oldest goes when there are too many
      if (asks.size >= ASKS_AHEAD) asks.get(Math.min(...asks.keys()))?.(undefined);
      asks.set(index, done);
      this.asking.set(transferId, asks);
      signal.addEventListener('abort', onAbort, { once: true });
      for (const wake of this.arrivals.get(transferId) ?? []) wake();
    });
  }

  /**
   * The sender starts chunk `index`: a live stream to the receiver if it is asking for that
   * chunk (waiting up to a moment for its ask when it has been asking), else undefined.
   */
  async offer(transferId: string, index: number): Promise<PassThrough | undefined> {
    const take = (): PassThrough | undefined => {
      const give = this.asking.get(transferId)?.get(index);
      if (!give) return undefined;
      const live = new PassThrough();
      // its end reaches the receiver's response through the pipe; until that pipe exists (a paced
      // response waits its turn), a stream the sender cut off must not throw where nobody listens
      live.on('error', () => undefined);
      give(live);
      return live;
    };
    const now = take();
    if (now || !this.attached(transferId)) return now;
    let wake: () => void = () => undefined;
    const arrived = new Promise<void>((resolve) => (wake = resolve));
    const waiters = this.arrivals.get(transferId) ?? new Set();
    waiters.add(wake);
    this.arrivals.set(transferId, waiters);
    const timer = setTimeout(wake, this.timings.nextAskMs);
    try {
      await arrived;
      return take();
    } finally {
      clearTimeout(timer);
      waiters.delete(wake);
      if (!waiters.size) this.arrivals.delete(transferId);
    }
  }

  /**
   * An upload writes into a live stream: `stop` ends its waiting when a newer request for
   * the same upload arrives (the sender gave up on this one). Returns the unregistration.
   */
  writing(transferId: string, stop: () => void): () => void {
    this.writers.set(transferId, stop);
    return () => {
      if (this.writers.get(transferId) === stop) this.writers.delete(transferId);
    };
  }

  /** A new upload request for the transfer: the one before it is dead, stop waiting for it. */
  supersede(transferId: string): void {
    this.writers.get(transferId)?.();
    // the new request starts where the server tells it (after a drop: the last confirmed chunk)
    this.dropped.delete(transferId);
  }

  /**
   * Chunk `index` (ending at byte `end`) went through whole and matched its hash. The
   * sender is told to go on at `end` at once, so it sends the next chunk while the receiver
   * stores this one (up to `STREAM_WINDOW` chunks await their acknowledgement); the server
   * counts a chunk as sent only when the receiver acknowledges it (`acknowledged`). One not
   * confirmed in time is dropped with every chunk after it: the sender is sent back to the
   * last confirmed offset (and an acknowledgement that still arrives counts — the receiver
   * checked the chunks against the manifest).
   */
  streamedWhole(transferId: string, index: number, end: number): void {
    this.stats.streamed += 1;
    this.streamed.set(transferId, Math.max(this.streamed.get(transferId) ?? 0, index + 1));
    const entries = this.unconfirmed.get(transferId) ?? [];
    let settle: (ok: boolean) => void = () => undefined;
    const confirmed = new Promise<void>((resolve, reject) => {
      settle = (ok) => {
        clearTimeout(timer);
        if (ok) resolve();
        else reject(new TetherError('CONFLICT', `the receiver did not confirm chunk ${index}; the upload continues at the last confirmed chunk`, { chunk: index }));
      };
      const timer = setTimeout(() => this.drop(transferId, index), this.timings.ackWaitMs);
    });
    confirmed.catch(() => undefined); // nobody may be waiting on it
    entries.push({ index, end, confirmed, settle });
    this.unconfirmed.set(transferId, entries);
  }

  /** Where the sender goes on: past the chunks still awaiting their acknowledgement, else `committed`. */
  offsetOf(transferId: string, committed: number): number {
    return this.unconfirmed.get(transferId)?.at(-1)?.end ?? committed;
  }

  /**
   * Waits until at most `keep` chunks of the transfer await their acknowledgement: before
   * the next chunk goes straight through (`STREAM_WINDOW - 1`), before one is spooled or the
   * last answer is given (0). Throws CONFLICT when one was dropped, or a newer upload
   * request took over.
   */
  async confirmed(transferId: string, keep = 0): Promise<void> {
    const dropped = this.dropped.get(transferId);
    if (dropped !== undefined) {
      // the upload went on past a chunk that was never confirmed: it goes back, and so does every chunk after it
      this.dropped.delete(transferId);
      for (const entry of this.unconfirmed.get(transferId)?.splice(0) ?? []) entry.settle(false);
      this.unconfirmed.delete(transferId);
      throw new TetherError('CONFLICT', `the receiver did not confirm chunk ${dropped}; the upload continues at the last confirmed chunk`, { chunk: dropped });
    }
    let stop: () => void = () => undefined;
    const stopped = new Promise<never>((_resolve, reject) => {
      stop = () => reject(new TetherError('CONFLICT', 'a newer upload request took over'));
    });
    stopped.catch(() => undefined);
    const unregister = this.writing(transferId, stop);
    try {
      for (let entries = this.unconfirmed.get(transferId); entries && entries.length > keep; entries = this.unconfirmed.get(transferId)) {
        await Promise.race([entries[0]!.confirmed, stopped]);
      }
    } finally {
      unregister();
    }
  }

  /** How many chunks from the start went straight through whole (acknowledgeable even if not yet counted). */
  streamedCount(transferId: string): number {
    return this.streamed.get(transferId) ?? 0;
  }

  /** The receiver's acknowledgement of chunks [0, upTo) committed (the offset moved with it). */
  acknowledged(transferId: string, upTo: number): void {
    this.seen(transferId);
    const entries = this.unconfirmed.get(transferId);
    if (!entries) return;
    while (entries.length && entries[0]!.index < upTo) entries.shift()!.settle(true);
    if (!entries.length) this.unconfirmed.delete(transferId);
  }

  /** Chunk `index` was never confirmed: it and every chunk after it are dropped (the sender goes back). */
  private drop(transferId: string, index: number): void {
    const entries = this.unconfirmed.get(transferId);
    if (!entries) return;
    const at = entries.findIndex((e) => e.index === index);
    if (at < 0) return;
    for (const entry of entries.splice(at)) entry.settle(false);
    if (!entries.length) this.unconfirmed.delete(transferId);
    // the upload still going on is past it: it is sent back at its next chunk
    this.dropped.set(transferId, index);
  }

  /** The transfer stopped: nothing waits for it any more. */
  forget(transferId: string): void {
    for (const entry of this.unconfirmed.get(transferId) ?? []) entry.settle(false);
    this.unconfirmed.delete(transferId);
    for (const give of this.asking.get(transferId)?.values() ?? []) give(undefined);
    this.writers.get(transferId)?.();
    this.streamed.delete(transferId);
    this.lastSeen.delete(transferId);
    this.dropped.delete(transferId);
  }

  /** A receiver is on its way (it asked for the transfer): the sender waits a moment for its first ask instead of spooling at once. */
  expect(transferId: string): void {
    this.seen(transferId);
  }

  private seen(transferId: string): void {
    const now = Date.now();
    this.lastSeen.set(transferId, now);
    if (this.lastSeen.size > 1024) for (const [id, at] of this.lastSeen) if (now - at > this.timings.attachedMs) this.lastSeen.delete(id);
  }

  private attached(transferId: string): boolean {
    const at = this.lastSeen.get(transferId);
    return at !== undefined && Date.now() - at < this.timings.attachedMs;
  }
}
