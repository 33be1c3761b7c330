/** How many chunk buffers a receiver keeps: one being stored, one arriving, one asked for. */
export const RECEIVE_BUFFERS = 3;

/** A chunk whose bytes (a view of its buffer) matched its hash in the manifest. */
export interface CheckedChunk {
  bytes: Buffer;
  sha256: string;
}

/** What `receiveInOrder` needs of one receiver (the console's download, the agent's receive). */
export interface InOrderReceiver {
  /** Chunks [0, from) are stored and confirmed already. */
  from: number;
  total: number;
  chunkSize: number;
  /** Times one chunk may fail its check; the next failure throws `tooManyFailures`. */
  attempts: number;
  /**
   * Fetches chunk `index` into `into`: the checked chunk, or false when its bytes did not
   * match the manifest (it is fetched again). Calls `arriving()` once its bytes
   * start to come, so the chunk after it is asked for; `next()` tells whether it is the chunk
   * the receiver needs now (only that one shows a wait for the sender).
   */
  fetch(index: number, into: Buffer, on: { arriving: () => void; next: () => boolean }): Promise<CheckedChunk | false>;
  /** Writes a checked chunk; called in order, one at a time. */
  store(index: number, chunk: CheckedChunk): Promise<void>;
  /**
   * Makes chunks [0, upTo) durable, records that and tells the server (which then forgets
   * them). Runs beside the loop, one call at a time; `upTo` is everything stored so far.
   */
  confirm(upTo: number): Promise<void>;
  /** A chunk failed its check (before it is fetched again, or before the transfer fails). */
  rejected?(index: number, attempt: number): void;
  tooManyFailures(index: number): Error;
}

/**
 * Receives chunks [from, total) in order with ask-ahead: chunk i is stored while i + 1
 * arrives and i + 2 is already asked for (once i + 1 is arriving), so the sender goes from one
 * chunk straight into the next instead of waiting for a request. Making stored chunks
 * durable and acknowledging them runs beside the loop — one sync covers every chunk stored
 * before it — and only confirmed chunks are acknowledged. Returns once every chunk is
 * stored and confirmed.
 */
export async function receiveInOrder(receiver: InOrderReceiver): Promise<void> {
  const { total } = receiver;
  const buffers = Array.from({ length: RECEIVE_BUFFERS }, () => Buffer.allocUnsafe(receiver.chunkSize));
  const pending = new Map<number, Promise<CheckedChunk | false>>();
  const arriving = new Set<number>();
  let stored = receiver.from;
  let nextToAsk = stored;

  const fetch = (index: number) => {
    const fetching = receiver.fetch(index, buffers[index % buffers.length]!, {
      arriving: () => {
        arriving.add(index);
        askAhead();
      },
      next: () => index === stored,
    });
    // it may fail (aborted) while an earlier chunk is still being stored: awaited then, not unhandled now
    fetching.catch(() => undefined);
    pending.set(index, fetching);
  };
  /** Asks for the next chunk once the one before it is arriving, while a buffer is free for it. */
  const askAhead = () => {
    while (nextToAsk < total && nextToAsk < stored + buffers.length && (nextToAsk === stored || arriving.has(nextToAsk - 1))) {
      fetch(nextToAsk);
      nextToAsk += 1;
    }
  };

  let confirmed = stored;
  let confirming: Promise<void> | undefined;
  let confirmFailure: unknown;
  const confirmStored = async () => {
    try {
      while (confirmed < stored) {
        const upTo = stored;
        await receiver.confirm(upTo);
        confirmed = upTo;
      }
    } catch (err) {
      confirmFailure ??= err;
    }
  };
  const confirm = (): Promise<void> => (confirming ??= confirmStored().finally(() => (confirming = undefined)));

  let failures = 0;
  askAhead();
  try {
    while (stored < total) {
      const index = stored;
      const chunk = await pending.get(index)!;
      pending.delete(index);
      arriving.delete(index);
      if (!chunk) {
        failures += 1;
        receiver.rejected?.(index, failures);
        if (failures >= receiver.attempts) throw receiver.tooManyFailures(index);
        fetch(index);
        continue;
      }
      failures = 0;
      await receiver.store(index, chunk);
      stored = index + 1;
      // its buffer is free again
      askAhead();
      if (confirmFailure) throw confirmFailure;
      void confirm();
    }
    // the last chunks: confirmed before the caller checks the file whole
    await confirming;
    while (!confirmFailure && confirmed < stored) await confirm();
    if (confirmFailure) throw confirmFailure;
  } finally {
    // fetches still running when this stopped: their outcome no longer matters
    for (const fetching of pending.values()) fetching.catch(() => undefined);
    await confirming;
  }
}
