import { describe, expect, it } from 'vitest';
import { ASKS_AHEAD, ChunkHandoff } from '../../../server/transfers/handoff.ts';
import { TetherError } from '#contract/errors';

const never = new AbortController().signal;

/** What `promise` settles with within the current turn (microtasks), or 'pending' if it waits for anything else. */
function atOnce<T>(promise: Promise<T>): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);
}

describe('the stream-through hand-over', () => {
  it('serves an ask for the chunk after the one on its way, so the sender goes straight on', async () => {
    const handoff = new ChunkHandoff({ nextAskMs: 5_000 });
    const first = handoff.ask('t', 0, 5_000, never);
    const second = handoff.ask('t', 1, 5_000, never);
    const live0 = await handoff.offer('t', 0);
    expect(live0).toBeDefined();
    expect(await first).toBe(live0);
    // the receiver's ask for chunk 1 is already there: no wait for a request
    const live1 = await atOnce(handoff.offer('t', 1));
    expect(live1).not.toBe('pending');
    expect(live1).toBeDefined();
    expect(await second).toBe(live1);
  });

  it(`keeps at most ${ASKS_AHEAD} asks per transfer (the oldest goes) and lets a newer ask for a chunk replace the older`, async () => {
    const handoff = new ChunkHandoff();
    const stale = handoff.ask('t', 3, 5_000, never);
    const replaced = handoff.ask('t', 4, 5_000, never);
    const newer = handoff.ask('t', 4, 5_000, never);
    expect(await replaced).toBeUndefined();
    const third = handoff.ask('t', 5, 5_000, never);
    expect(await stale).toBeUndefined(); // evicted: chunk 3 is behind the asks for 4 and 5
    const live4 = await handoff.offer('t', 4);
    expect(await newer).toBe(live4);
    const live5 = await handoff.offer('t', 5);
    expect(await third).toBe(live5);
    // another transfer's asks are its own
    const other = handoff.ask('u', 0, 5_000, never);
    expect(await handoff.offer('u', 0)).toBe(await other);
  });

  it('spools at once when no receiver is about, and gives an expected receiver a moment to ask', async () => {
    const handoff = new ChunkHandoff({ nextAskMs: 2_000 });
    expect(await atOnce(handoff.offer('alone', 0))).toBeUndefined();

    handoff.expect('awaited');
    const offered = handoff.offer('awaited', 0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const asked = handoff.ask('awaited', 0, 5_000, never);
    const live = await offered;
    expect(live).toBeDefined();
    expect(await asked).toBe(live);
  });

  it('sends the upload back once when a chunk it passed on is never confirmed, and only the request that was going on', async () => {
    const handoff = new ChunkHandoff({ ackWaitMs: 50 });
    handoff.streamedWhole('t', 0, 100);
    handoff.acknowledged('t', 1);
    handoff.streamedWhole('t', 1, 200);
    expect(handoff.offsetOf('t', 100)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 150)); // chunk 1's wait runs out
    expect(handoff.offsetOf('t', 100)).toBe(100);
    // the request still uploading hears it at its next chunk …
    const refused = await handoff.confirmed('t', 1).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(TetherError);
    expect((refused as TetherError).code).toBe('CONFLICT');
    expect((refused as TetherError).details).toEqual({ chunk: 1 });
    // … once: the request that follows starts where it was told
    await expect(handoff.confirmed('t', 1)).resolves.toBeUndefined();
    handoff.streamedWhole('t', 1, 200);
    await new Promise((resolve) => setTimeout(resolve, 150));
    handoff.supersede('t'); // a new request came in after the drop
    await expect(handoff.confirmed('t')).resolves.toBeUndefined();
  });

  it('lets the next chunk go on once the one before it is acknowledged', async () => {
    const handoff = new ChunkHandoff({ ackWaitMs: 5_000 });
    handoff.streamedWhole('t', 0, 100);
    handoff.streamedWhole('t', 1, 200);
    let through = false;
    const waiting = handoff.confirmed('t', 1).then(() => (through = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(through).toBe(false);
    handoff.acknowledged('t', 1);
    await waiting;
    expect(through).toBe(true);
    expect(handoff.offsetOf('t', 100)).toBe(200);
    handoff.forget('t');
  });
});
