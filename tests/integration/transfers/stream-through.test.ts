import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransferDetail } from '#contract/api/transfers';
import { TRANSFER_CHUNK_BYTES } from '#contract/transfers';
import { tempDir } from '../../helpers/server.ts';
import {
  type TransferWorld,
  download,
  getChunk,
  hostPathOf,
  openSession,
  sha256OfFile,
  startDownload,
  startTransferWorld,
  startUpload,
  tusUpload,
  waitForState,
  writeRandomFile,
} from './harness.ts';

/**
 * When both ends are online, chunks go from the sender's upload straight into the
 * receiver's response (no spool), and only the receiver's acknowledgement makes a chunk
 * count: one that is never confirmed sends the sender back to the last confirmed chunk.
 */
describe('stream-through', () => {
  let world: TransferWorld;
  let deviceId: string;
  let sessionId: string;
  const local = tempDir('tether-stream-through-');
  const stats = () => ({ ...world.ts.server.services.transfers.handoff.stats });

  beforeAll(async () => {
    // a chunk not confirmed within 3 s is sent again (30 s by default); the sender's next chunk
    // waits up to 15 s (2 s by default) for the receiver's ask, so a busy machine does not spool it
    world = await startTransferWorld('Stream Radiology', [{ serial: 'RAD-ST00001', modelId: 'radimetrics' }], { transfers: { streamAckWaitMs: 3000, streamNextAskMs: 15_000 } });
    deviceId = world.devices[0]!.id;
    sessionId = (await openSession(world.engineer, deviceId)).id;
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    await rm(local, { recursive: true, force: true });
  });

  it('passes chunks straight from the device to a receiver that is asking, none through the spool', async () => {
    const member = world.fleet.get('RAD-ST00001');
    const chunks = 6;
    const { sha256 } = await writeRandomFile(hostPathOf(member, '/exports/live.bin'), chunks * TRANSFER_CHUNK_BYTES - 7);
    const before = stats();
    const transfer = await startDownload(world.engineer, deviceId, sessionId, '/exports/live.bin');
    expect(await download(world.engineer, transfer.id, join(local, 'live.bin'))).toBe(sha256);
    const done = await waitForState(world.engineer, transfer.id, 'completed');
    expect(done).toMatchObject({ sha256, uploadedBytes: done.size, deliveredBytes: done.size });
    const after = stats();
    // the console that asked for the file is expected: even the first chunk waits for its ask
    expect(after.streamed - before.streamed).toBe(chunks);
    expect(after.spooled - before.spooled).toBe(0);
  });

  it('sends a chunk again when its receiver took it but never confirmed it, and finishes with the right hash', async () => {
    const member = world.fleet.get('RAD-ST00001');
    const { sha256, size } = await writeRandomFile(hostPathOf(member, '/exports/unconfirmed.bin'), 5 * TRANSFER_CHUNK_BYTES + 3);
    const transfer = await startDownload(world.engineer, deviceId, sessionId, '/exports/unconfirmed.bin');
    const dest = join(local, 'unconfirmed.bin');
    await download(world.engineer, transfer.id, dest, { untilChunk: 2 });
    // chunk 2 is taken whole, then the receiver "dies" before it acknowledges it
    const detail = (await world.engineer.get<TransferDetail>(`/api/v1/transfers/${transfer.id}`)).body;
    const taken = await getChunk(world.engineer, transfer.id, 2, detail.manifest!, Buffer.allocUnsafe(TRANSFER_CHUNK_BYTES));
    expect(taken.status).toBe(206);
    const unconfirmed = (await world.engineer.get<TransferDetail>(`/api/v1/transfers/${transfer.id}`)).body;
    expect(unconfirmed.uploadedBytes).toBe(2 * TRANSFER_CHUNK_BYTES); // not counted without the receiver's word
    // the sender is sent back to chunk 2 once the wait runs out; the receiver starts again from what it kept
    expect(await download(world.engineer, transfer.id, dest, { fromChunk: 2 })).toBe(sha256);
    expect(await sha256OfFile(dest)).toBe(sha256);
    expect(await waitForState(world.engineer, transfer.id, 'completed')).toMatchObject({ size, sha256 });
  });

  it('carries a file to the device at the device’s pace, the upload held to it', async () => {
    const source = join(local, 'to-device.bin');
    const manifest = await writeRandomFile(source, 4 * TRANSFER_CHUNK_BYTES + 11);
    const before = stats();
    const transfer = await startUpload(world.engineer, deviceId, sessionId, source, '/service/to-device.bin', { manifest });
    await tusUpload(world.engineer, transfer.id, source);
    const done = await waitForState(world.engineer, transfer.id, 'completed');
    expect(done.sha256).toBe(manifest.sha256);
    expect(await sha256OfFile(hostPathOf(world.fleet.get('RAD-ST00001'), '/service/to-device.bin'))).toBe(manifest.sha256);
    expect(stats().streamed - before.streamed).toBeGreaterThanOrEqual(1);
  });
});
