import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseServerConfig } from '../../../server/config.ts';
import { BandwidthLimiter, chunkForRange } from '../../../server/transfers/content.ts';

const MiB = 1024 * 1024;

describe('content ranges', () => {
  const size = 10 * MiB + 7;
  const chunk = 4 * MiB;

  it('maps a whole-chunk range to its index, open-ended or exact', () => {
    expect(chunkForRange(`bytes=0-${chunk - 1}`, size, chunk)).toBe(0);
    expect(chunkForRange(`bytes=${chunk}-`, size, chunk)).toBe(1);
    expect(chunkForRange(`bytes=${2 * chunk}-${size - 1}`, size, chunk)).toBe(2);
  });

  it('refuses anything that is not exactly one chunk of this file', () => {
    for (const range of [undefined, '', 'bytes=5-10', `bytes=0-${chunk}`, `bytes=${3 * chunk}-`, 'items=0-1', `bytes=0-${chunk - 1},${chunk}-`, 'bytes=-100']) {
      expect(() => chunkForRange(range, size, chunk), String(range)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
    expect(() => chunkForRange('bytes=0-', 0, chunk)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('transfer settings', () => {
  it('defaults: spool under the data dir, a day to live, two per device, twenty in all, no cap', () => {
    const config = parseServerConfig({ dataDir: '/srv/tether' });
    expect(config.transfers).toEqual({ spoolDir: '/srv/tether/transfers', ttlHours: 24, maxPerDevice: 2, maxOverall: 20, bandwidthBytesPerSec: 0, contentWaitMs: 15_000, streamThrough: true, streamAckWaitMs: 30_000, streamNextAskMs: 2000, sweepMs: 1000, maxAutoRetries: 20 });
  });

  it('refuses nonsense with a clear error', () => {
    expect(() => parseServerConfig({ transfers: { maxPerDevice: 0 } })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => parseServerConfig({ transfers: { speed: 1 } })).toThrow(/transfers/);
  });
});

describe('bandwidth cap', () => {
  const KiB = 1024;
  /** Reads a stream to its end, noting its first piece and its end in `events`. */
  const drain = (name: string, stream: Readable, events: string[]) =>
    new Promise<number>((resolve, reject) => {
      let bytes = 0;
      stream.on('data', (piece: Buffer) => {
        if (bytes === 0) events.push(`${name} first`);
        bytes += piece.length;
      });
      stream.on('end', () => {
        events.push(`${name} end`);
        resolve(bytes);
      });
      stream.on('error', reject);
    });

  it('gives a transfer’s budget to its responses in order: one asked ahead waits for the one before it', async () => {
    const limiter = new BandwidthLimiter(1024 * KiB);
    const events: string[] = [];
    const first = limiter.pace('t1', Readable.from([Buffer.alloc(100 * KiB)]));
    const second = limiter.pace('t1', Readable.from([Buffer.alloc(100 * KiB)]));
    const other = limiter.pace('t2', Readable.from([Buffer.alloc(10 * KiB)]));
    const sizes = await Promise.all([drain('second', second, events), drain('first', first, events), drain('other', other, events)]);
    expect(sizes).toEqual([100 * KiB, 100 * KiB, 10 * KiB]);
    expect(events.indexOf('first end')).toBeLessThan(events.indexOf('second first'));
    // another transfer has its own budget: it does not wait behind t1
    expect(events.indexOf('other end')).toBeLessThan(events.indexOf('first end'));
  });

  it('lets the next response go when the one before it is closed unread, and ends that one’s body', async () => {
    const limiter = new BandwidthLimiter(1024 * KiB);
    const events: string[] = [];
    const abandoned = limiter.pace('t1', Readable.from([Buffer.alloc(100 * KiB)]));
    const waitingBody = Readable.from([Buffer.alloc(100 * KiB)]);
    const waiting = limiter.pace('t1', waitingBody);
    waiting.destroy(); // its client went away while it waited for its turn
    abandoned.destroy();
    const next = limiter.pace('t1', Readable.from([Buffer.alloc(50 * KiB)]));
    expect(await drain('next', next, events)).toBe(50 * KiB);
    expect(waitingBody.destroyed).toBe(true);
  });
});
