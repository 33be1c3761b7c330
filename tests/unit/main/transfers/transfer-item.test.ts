import { describe, expect, it } from 'vitest';
import type { TransferItem } from '#contract/ipc';
import { SpeedMeter } from '../../../../src/main/services/transfers/progress.ts';
import { byListOrder, transferItemOf } from '../../../../src/main/services/transfers/transfer-item.ts';
import { runningWorker, serverView, transferEntry, transferRecord, uploadRecord } from './transfer-fixtures.ts';

const MiB = 1024 * 1024;

/** A meter that read `bytesPerSecond` over the last second, on a clock that stands still. */
function meterAt(bytesPerSecond: number): SpeedMeter {
  let now = 1_000_000;
  const meter = new SpeedMeter(5000, () => now);
  meter.record(0);
  now += 1000;
  meter.record(bytesPerSecond);
  return meter;
}

describe('a transfer as the renderer sees it', () => {
  it('shows a download’s progress as the chunks verified here, and its speed and time left while it runs', () => {
    const entry = transferEntry(transferRecord({ verifiedChunks: 2 }), { worker: runningWorker(), stage: 'downloading', meter: meterAt(4 * MiB) });
    entry.moved = 10 * MiB;
    const item = transferItemOf(entry);
    expect(item).toMatchObject({ state: 'running', stage: 'downloading', bytesDone: 8 * MiB, bytesMoved: 10 * MiB, speed: 4 * MiB, localPath: null });
    expect(item.etaSeconds).toBe(Math.ceil((20_000_000 - 10 * MiB) / (4 * MiB)));
  });

  it('shows an upload’s progress as the device’s count, and what this console sent as the server holds it between runs', () => {
    const entry = transferEntry(uploadRecord({ state: 'queued' }), { server: serverView({ direction: 'to-device', uploadedBytes: 12 * MiB, deliveredBytes: 8 * MiB }) });
    expect(transferItemOf(entry)).toMatchObject({ state: 'queued', stage: null, bytesDone: 8 * MiB, bytesMoved: 12 * MiB, speed: 0, etaSeconds: null, localPath: '/home/eng/tool.bin' });
  });

  it('while the device receives an upload, counts the time left from its count', () => {
    const entry = transferEntry(uploadRecord(), { worker: runningWorker(), stage: 'delivering', meter: meterAt(2 * MiB), server: serverView({ direction: 'to-device', deliveredBytes: 16 * MiB }) });
    entry.moved = 20_000_000;
    expect(transferItemOf(entry).etaSeconds).toBe(Math.ceil((20_000_000 - 16 * MiB) / (2 * MiB)));
  });

  it('gives no time left while a file is being read for its manifest', () => {
    const entry = transferEntry(uploadRecord({ size: null }), { worker: runningWorker(), stage: 'preparing', meter: meterAt(MiB) });
    expect(transferItemOf(entry)).toMatchObject({ stage: 'preparing', size: null, etaSeconds: null });
  });

  it('never shows more bytes than the file has', () => {
    const entry = transferEntry(uploadRecord({ size: 1000 }), { worker: runningWorker() });
    entry.moved = 5000;
    expect(transferItemOf(entry)).toMatchObject({ bytesMoved: 1000 });
  });

  it('shows a transfer the server still queues as waiting, even while its run here waits on it', () => {
    const entry = transferEntry(transferRecord(), { worker: runningWorker(), server: serverView({ state: 'queued' }) });
    expect(transferItemOf(entry).state).toBe('queued');
  });

  it('shows a transfer waiting for its automatic retry as running, retrying, with the time of the next try', () => {
    const retryAt = Date.parse('2025-01-01T10:01:00.000Z');
    const entry = transferEntry(transferRecord({ attempts: 2, error: { code: 'SERVER_UNREACHABLE', message: 'the server cannot be reached' } }), {
      retryTimer: setTimeout(() => undefined, 0),
      retryAt,
    });
    clearTimeout(entry.retryTimer);
    expect(transferItemOf(entry)).toMatchObject({ state: 'running', stage: 'retrying', attempts: 2, nextRetryAt: '2025-01-01T10:01:00.000Z', error: { code: 'SERVER_UNREACHABLE' } });
  });

  it('shows a finished download whole, with where it was saved; a staged upload names no local file', () => {
    const download = transferEntry(transferRecord({ state: 'completed', finalPath: '/tmp/downloads/system.log', completedAt: '2025-01-01T10:02:00.000Z' }));
    expect(transferItemOf(download)).toMatchObject({ state: 'completed', stage: null, bytesDone: 20_000_000, bytesMoved: 20_000_000, localPath: '/tmp/downloads/system.log' });
    const staged = transferEntry(uploadRecord({ source: { path: '/home/eng/.tether/staging/x/tool.bin', size: 1, mtimeMs: 1, staged: true } }));
    expect(transferItemOf(staged).localPath).toBeNull();
  });

  it('lists running and waiting transfers first, then the history, newest first in each', () => {
    const item = (id: string, state: TransferItem['state'], createdAt: string, completedAt: string | null = null) =>
      transferItemOf(transferEntry(transferRecord({ id, state, createdAt, completedAt })));
    const items = [
      item('old-done', 'completed', '2025-01-01T08:00:00.000Z', '2025-01-01T11:00:00.000Z'),
      item('old-running', 'running', '2025-01-01T09:00:00.000Z'),
      item('new-failed', 'failed', '2025-01-01T10:00:00.000Z', '2025-01-01T10:30:00.000Z'),
      item('new-queued', 'queued', '2025-01-01T10:00:00.000Z'),
      item('paused', 'paused', '2025-01-01T09:30:00.000Z'),
    ];
    expect(items.sort(byListOrder).map((i) => i.id)).toEqual(['new-queued', 'paused', 'old-running', 'old-done', 'new-failed']);
  });
});
