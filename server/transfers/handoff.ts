import { PassThrough } from 'node:stream';
import { TetherError } from '../../src/shared/errors.ts';

export interface HandoffTimings {
  /** How long a writer waits for the receiver to ask for the next chunk, when it has been asking. */
  nextAskMs: number;
  /** A receiver counts as "with us" this long after its last ask or acknowledgement. */
  attachedMs: number;
  /** How long a chunk passed straight through may wait for the receiver's acknowledgement. */
  ackWaitMs: number;
}

const DEFAULT_TIMINGS: HandoffTimings = { nextAskMs: 2_000, attachedMs: 10_000, ackWaitMs: 30_000 };

interface Asking {
  index: number;
  give: (live: PassThrough | undefined) => void;
}

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
 * count: the next chunk waits for it, and one never confirmed sends the sender back to the
 * last confirmed offset — so a chunk lost on the way (receiver gone, damaged) is simply
 * sent again, and what the server counts as sent is always held somewhere. When the
 * receiver is not there, the chunk is spooled as before. In memory, per node: a cluster whose two ends land on
 * different nodes spools.
 */
export class ChunkHandoff {
  /** Chunks passed straight through and chunks that went to the spool, since the start (for operators and tests). */
  readonly stats = { streamed: 0, spooled: 0 };
  private readonly timings: HandoffTimings;
  private readonly asking = new Map<string, Asking>();
  private readonly unconfirmed = new Map<string, Unconfirmed>();
  /** The last chunk of each transfer that went through whole and matched its hash. */
  private readonly streamed = new Map<string, number>();
  /** The upload writing into a live stream now, to stop when a newer upload request replaces it. */
  private readonly writers = new Map<string, () => void>();
  private readonly lastSeen = new Map<string, number>();
  private readonly arrivals = new Map<string, Set<() => void>>();

  constructor(timings: Partial<HandoffTimings> = {}) {
    this.timings = { ...DEFAULT_TIMINGS, ...timings };
  }

  /**
   * The receiver asks for chunk `index`, not held yet: resolves with its live stream if the
   * sender starts that chunk within `waitMs`, else undefined (the caller then looks for
   * the chunk in the spool again).
   */
  ask(transferId: string, index: number, waitMs: number, signal: AbortSignal): Promise<PassThrough | undefined> {
    this.seen(transferId);
    return new Promise((resolve) => {
      const done = (live: PassThrough | undefined) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (this.asking.get(transferId) === entry) this.asking.delete(transferId);
        resolve(live);
      };
      const onAbort = () => done(undefined);
      const entry: Asking = { index, give: done };
      const timer = setTimeout(() => done(undefined), waitMs);
      // one receiver per transfer: a newer ask replaces an older one (whose connection is gone)
      this.asking.get(transferId)?.give(undefined);
      this.asking.set(transferId, entry);
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
      const entry = this.asking.get(transferId);
      if (entry?.index !== index) return undefined;
      this.asking.delete(transferId);
      const live = new PassThrough();
      entry.give(live);
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
  }

  /**
   * Chunk `index` (ending at byte `end`) went through whole and matched its hash. The
   * sender is told to go on at `end` at once, so it prepares the next chunk while the
   * receiver stores this one; the server counts the chunk as sent only when the receiver
   * acknowledges it (`acknowledged`). Unconfirmed in time, it is dropped: the sender is
   * sent back to the last confirmed offset (and an acknowledgement that still arrives
   * counts — the receiver checked the chunk against the manifest).
   */
  streamedWhole(transferId: string, index: number, end: number): void {
    this.stats.streamed += 1;
    this.streamed.set(transferId, index);
    let settle: (ok: boolean) => void = () => undefined;
    const confirmed = new Promise<void>((resolve, reject) => {
      settle = (ok) => {
        clearTimeout(timer);
        if (this.unconfirmed.get(transferId) === entry) this.unconfirmed.delete(transferId);
        if (ok) resolve();
        else reject(new TetherError('CONFLICT', `the receiver did not confirm chunk ${index}; the upload continues at the last confirmed chunk`, { chunk: index }));
      };
      const timer = setTimeout(() => settle(false), this.timings.ackWaitMs);
    });
    confirmed.catch(() => undefined); // nobody may be waiting on it
    const entry: Unconfirmed = { index, end, confirmed, settle };
    this.unconfirmed.get(transferId)?.settle(false);
    this.unconfirmed.set(transferId, entry);
  }

  /** Where the sender goes on: past a chunk still awaiting its acknowledgement, else `committed`. */
  offsetOf(transferId: string, committed: number): number {
    return this.unconfirmed.get(transferId)?.end ?? committed;
  }

  /**
   * Waits until no chunk of the transfer awaits its acknowledgement (before the next chunk
   * counts). Throws CONFLICT when it was dropped, or a newer upload request arrived.
   */
  async confirmed(transferId: string): Promise<void> {
    const entry = this.unconfirmed.get(transferId);
    if (!entry) return;
    let stop: () => void = () => undefined;
    const stopped = new Promise<never>((_resolve, reject) => {
      stop = () => reject(new TetherError('CONFLICT', 'a newer upload request took over'));
    });
    const unregister = this.writing(transferId, stop);
    try {
      await Promise.race([entry.confirmed, stopped]);
    } finally {
      unregister();
    }
  }

  /** The chunk that went straight through and is not yet counted as sent, if any. */
  streamedChunk(transferId: string): number | undefined {
    return this.streamed.get(transferId);
  }

  /** The acknowledgement of a streamed chunk committed (its offset moved with it). */
  acknowledged(transferId: string, index: number): void {
    this.seen(transferId);
    if (this.streamed.get(transferId) === index) this.streamed.delete(transferId);
    const entry = this.unconfirmed.get(transferId);
    if (entry?.index === index) entry.settle(true);
  }

  /** The transfer stopped: nothing waits for it any more. */
  forget(transferId: string): void {
    this.unconfirmed.get(transferId)?.settle(false);
    this.asking.get(transferId)?.give(undefined);
    this.writers.get(transferId)?.();
    this.streamed.delete(transferId);
    this.lastSeen.delete(transferId);
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
