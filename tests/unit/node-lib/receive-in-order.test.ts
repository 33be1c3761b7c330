import { describe, expect, it } from 'vitest';
import { type CheckedChunk, type InOrderReceiver, RECEIVE_BUFFERS, receiveInOrder } from '#node-lib/receive-in-order';

/** A chunk fetch the test settles by hand: it starts arriving, then ends with its bytes or a failed check. */
interface Fetch {
  index: number;
  into: Buffer;
  arriving(): void;
  next(): boolean;
  resolve(chunk: CheckedChunk | false): void;
  reject(err: Error): void;
}

/** A receiver whose fetches the test drives; it records what was stored and confirmed, in order. */
function scripted(total: number, from = 0, overrides: Partial<InOrderReceiver> = {}) {
  const fetches: Fetch[] = [];
  const events: string[] = [];
  const receiver: InOrderReceiver = {
    from,
    total,
    chunkSize: 8,
    attempts: 3,
    fetch: (index, into, on) =>
      new Promise((resolve, reject) => {
        events.push(`fetch ${index}`);
        fetches.push({ index, into, arriving: on.arriving, next: on.next, resolve, reject });
      }),
    store: async (index) => {
      events.push(`store ${index}`);
    },
    confirm: async (upTo) => {
      events.push(`confirm ${upTo}`);
    },
    rejected: (index, attempt) => events.push(`rejected ${index} #${attempt}`),
    tooManyFailures: (index) => new Error(`chunk ${index} failed too often`),
    ...overrides,
  };
  const chunk = (f: Fetch): CheckedChunk => ({ bytes: f.into.subarray(0, 8), sha256: `hash-${f.index}` });
  /** Lets the driver's pending promise reactions run. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  const asked = () => fetches.map((f) => f.index);
  return { receiver, fetches, events, chunk, settle, asked };
}

describe('receiveInOrder', () => {
  it('asks for the next chunk only once the one before it is arriving, and never more than its buffers ahead', async () => {
    const { receiver, fetches, chunk, settle, asked } = scripted(6);
    const done = receiveInOrder(receiver);
    await settle();
    expect(asked()).toEqual([0]);
    fetches[0]!.arriving();
    expect(asked()).toEqual([0, 1]);
    fetches[1]!.arriving();
    expect(asked()).toEqual([0, 1, 2]);
    // three buffers in use: chunk 3 waits for chunk 0 to be stored, even though 2 is arriving
    fetches[2]!.arriving();
    expect(asked()).toEqual([0, 1, 2]);
    expect(asked().length).toBe(RECEIVE_BUFFERS);
    fetches[0]!.resolve(chunk(fetches[0]!));
    await settle();
    expect(asked()).toEqual([0, 1, 2, 3]);
    // each buffer is used again only by the chunk three further on
    expect(fetches[3]!.into).toBe(fetches[0]!.into);
    expect(new Set(fetches.slice(0, 3).map((f) => f.into)).size).toBe(3);
    for (let i = 1; i < 6; i += 1) {
      await settle();
      fetches[i]!.arriving();
      fetches[i]!.resolve(chunk(fetches[i]!));
    }
    await done;
    expect(asked()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('stores in order even when a later chunk arrives first, and confirms only what was stored', async () => {
    const { receiver, fetches, events, chunk, settle } = scripted(3);
    const done = receiveInOrder(receiver);
    await settle();
    fetches[0]!.arriving();
    fetches[1]!.arriving();
    fetches[1]!.resolve(chunk(fetches[1]!));
    fetches[2]!.arriving();
    fetches[2]!.resolve(chunk(fetches[2]!));
    await settle();
    expect(events.filter((e) => e.startsWith('store'))).toEqual([]);
    fetches[0]!.resolve(chunk(fetches[0]!));
    await done;
    const stores = events.filter((e) => e.startsWith('store'));
    expect(stores).toEqual(['store 0', 'store 1', 'store 2']);
    // every confirmation follows the store of what it confirms, and the last covers everything
    const confirms = events.filter((e) => e.startsWith('confirm')).map((e) => Number(e.split(' ')[1]));
    expect(confirms.at(-1)).toBe(3);
    for (const upTo of confirms) expect(events.indexOf(`store ${upTo - 1}`)).toBeLessThan(events.indexOf(`confirm ${upTo}`));
    expect([...confirms].sort((a, b) => a - b)).toEqual(confirms);
  });

  it('starts after what is kept, tells which chunk is needed now, and does nothing when all is there', async () => {
    const { receiver, fetches, events, chunk, settle, asked } = scripted(4, 2);
    const done = receiveInOrder(receiver);
    await settle();
    expect(asked()).toEqual([2]);
    fetches[0]!.arriving();
    expect(fetches[0]!.next()).toBe(true);
    expect(fetches[1]!.next()).toBe(false);
    fetches[0]!.resolve(chunk(fetches[0]!));
    await settle();
    expect(fetches[1]!.next()).toBe(true);
    fetches[1]!.arriving();
    fetches[1]!.resolve(chunk(fetches[1]!));
    await done;
    expect(events.filter((e) => e.startsWith('store'))).toEqual(['store 2', 'store 3']);

    const whole = scripted(4, 4);
    await receiveInOrder(whole.receiver);
    expect(whole.events).toEqual([]);
  });

  it('fetches a chunk again when it fails its check, and fails after the last attempt', async () => {
    const { receiver, fetches, events, chunk, settle, asked } = scripted(2);
    const done = receiveInOrder(receiver);
    await settle();
    fetches[0]!.resolve(false);
    await settle();
    expect(asked()).toEqual([0, 0]);
    fetches[1]!.arriving();
    fetches[1]!.resolve(chunk(fetches[1]!));
    await settle();
    expect(events).toContain('rejected 0 #1');
    expect(events).toContain('store 0');
    await settle();
    const third = fetches.find((f) => f.index === 1)!;
    third.arriving();
    third.resolve(false);
    await settle();
    fetches.at(-1)!.resolve(false);
    await settle();
    fetches.at(-1)!.resolve(false);
    await expect(done).rejects.toThrow('chunk 1 failed too often');
    expect(events.filter((e) => e.startsWith('rejected 1'))).toEqual(['rejected 1 #1', 'rejected 1 #2', 'rejected 1 #3']);
    expect(events).not.toContain('store 1');
  });

  it('stops at a failed confirmation, and at a failed fetch, without unhandled rejections', async () => {
    const failing = scripted(3, 0, {
      confirm: async () => {
        throw new Error('the server refused the acknowledgement');
      },
    });
    const done = receiveInOrder(failing.receiver);
    await failing.settle();
    failing.fetches[0]!.arriving();
    failing.fetches[0]!.resolve(failing.chunk(failing.fetches[0]!));
    await failing.settle();
    failing.fetches[1]!.arriving();
    failing.fetches[1]!.resolve(failing.chunk(failing.fetches[1]!));
    await expect(done).rejects.toThrow('the server refused the acknowledgement');

    const broken = scripted(3);
    const stopped = receiveInOrder(broken.receiver);
    await broken.settle();
    broken.fetches[0]!.arriving();
    broken.fetches[1]!.arriving();
    // a chunk asked for ahead fails first (aborted): noticed when its turn comes, not before
    broken.fetches[2]!.reject(new Error('aborted'));
    broken.fetches[0]!.resolve(broken.chunk(broken.fetches[0]!));
    broken.fetches[1]!.reject(new Error('the link broke'));
    await expect(stopped).rejects.toThrow('the link broke');
    expect(broken.events).toContain('store 0');
  });
});
