import { describe, expect, it } from 'vitest';
import { parseServerConfig } from '../../../server/config.ts';
import { chunkForRange } from '../../../server/transfers/content.ts';

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
