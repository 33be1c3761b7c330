import { access, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransferDetail } from '#contract/api/transfers';
import { TRANSFER_CHUNK_BYTES } from '#contract/transfers';
import { tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';
import {
  type TransferWorld,
  auditOf,
  hostPathOf,
  localAudit,
  openSession,
  spoolFiles,
  startTransferWorld,
  startUpload,
  transferRow,
  tusUpload,
  waitForState,
  writeRandomFile,
} from './harness.ts';

/** Every byte is checked: by the server as it arrives, by the receiver chunk by chunk and whole. */
describe('transfer checksums', () => {
  let world: TransferWorld;
  let deviceId: string;
  let sessionId: string;
  const local = tempDir('tether-checksums-');

  beforeAll(async () => {
    // the server hands out 2 MiB/s per transfer, so a test can act while chunks are on their way
    world = await startTransferWorld('Checksum Cardiology', [{ serial: 'MRX-CK00001', modelId: 'mrxperion' }], { transfers: { bandwidthBytesPerSec: 2 * 1024 * 1024 } });
    deviceId = world.devices[0]!.id;
    sessionId = (await openSession(world.engineer, deviceId)).id;
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    await rm(local, { recursive: true, force: true });
  });

  it('refuses an uploaded chunk that does not match its declared hash, keeping the chunks before it', async () => {
    const source = join(local, 'lying.bin');
    const manifest = await writeRandomFile(source, 2 * TRANSFER_CHUNK_BYTES + 10);
    const lying = { ...manifest, chunks: [manifest.chunks[0]!, 'f'.repeat(64), manifest.chunks[2]!] };
    const transfer = await startUpload(world.engineer, deviceId, sessionId, source, '/service/lying.bin', { manifest: lying });
    const failure = await tusUpload(world.engineer, transfer.id, source, { retryDelays: [] }).then(() => undefined, (err: Error & { originalResponse?: { getStatus(): number; getBody(): string } }) => err);
    expect(failure?.originalResponse?.getStatus()).toBe(422);
    expect(JSON.parse(failure!.originalResponse!.getBody()).error.code).toBe('CHECKSUM_MISMATCH');
    const detail = (await world.engineer.get<TransferDetail>(`/api/v1/transfers/${transfer.id}`)).body;
    expect(detail.uploadedBytes).toBe(TRANSFER_CHUNK_BYTES);
    // the first chunk may have reached the device's partial file; never anything under the final name
    await expect(access(hostPathOf(world.fleet.get('MRX-CK00001'), '/service/lying.bin'))).rejects.toThrow();
    await world.engineer.post(`/api/v1/transfers/${transfer.id}/cancel`);
    await waitFor(async () => (await spoolFiles(world.ts, transfer.id)).length === 0, { what: 'the spool purged' });
  });

  it('fails clearly when the whole file does not match its declared hash, leaving nothing on the device', async () => {
    const source = join(local, 'whole.bin');
    const manifest = await writeRandomFile(source, TRANSFER_CHUNK_BYTES + 5);
    const transfer = await startUpload(world.engineer, deviceId, sessionId, source, '/service/whole.bin', { manifest: { ...manifest, sha256: '0'.repeat(64) } });
    await tusUpload(world.engineer, transfer.id, source);
    const failed = await waitForState(world.engineer, transfer.id, 'failed');
    expect(failed.error?.code).toBe('CHECKSUM_MISMATCH');
    const member = world.fleet.get('MRX-CK00001');
    const onDevice = hostPathOf(member, '/service/whole.bin');
    await expect(access(onDevice)).rejects.toThrow();
    await expect(access(`${onDevice}.tether-part`)).rejects.toThrow();
    expect((await localAudit(member)).some((e) => e.action === 'transfer.fail' && e.detail.transferId === transfer.id && e.detail.code === 'CHECKSUM_MISMATCH')).toBe(true);
    expect((await auditOf(world.ts, 'transfer.fail')).some((e) => e.detail?.transferId === transfer.id && e.detail?.code === 'CHECKSUM_MISMATCH')).toBe(true);
  });
});

/** Held chunks are sealed: the receiver never gets a chunk whose spooled copy was altered. */
describe('transfer checksums on the spool', () => {
  let world: TransferWorld;
  let deviceId: string;
  let sessionId: string;
  const local = tempDir('tether-checksums-spool-');

  beforeAll(async () => {
    // every chunk through the spool (no stream-through), handed out at 2 MiB/s, so the last one is still held when the test damages it
    world = await startTransferWorld('Checksum Spool Cardiology', [{ serial: 'MRX-CK00002', modelId: 'mrxperion' }], { transfers: { bandwidthBytesPerSec: 2 * 1024 * 1024, streamThrough: false } });
    deviceId = world.devices[0]!.id;
    sessionId = (await openSession(world.engineer, deviceId)).id;
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    await rm(local, { recursive: true, force: true });
  });

  it('never hands on a spooled chunk that was damaged on the server’s disk', async () => {
    const source = join(local, 'damaged.bin');
    const manifest = await writeRandomFile(source, 3 * TRANSFER_CHUNK_BYTES);
    const transfer = await startUpload(world.engineer, deviceId, sessionId, source, '/service/damaged.bin', { manifest });
    await tusUpload(world.engineer, transfer.id, source);
    // the device reads the first chunks at 2 MiB/s: the last one is still held when it is damaged
    const spooled = join(world.ts.server.ctx.config.transfers.spoolDir!, transfer.id, '2.chunk');
    const file = await open(spooled, 'r+');
    await file.write(Buffer.from('tampered'), 0, 8, 1000);
    await file.close();
    const failed = await waitForState(world.engineer, transfer.id, 'failed');
    expect(failed.error?.code).toBe('CHECKSUM_MISMATCH');
    expect(failed.deliveredBytes).toBeLessThan(manifest.size);
    const member = world.fleet.get('MRX-CK00002');
    await expect(access(hostPathOf(member, '/service/damaged.bin'))).rejects.toThrow();
    // a failed transfer keeps what it held for a retry (until its TTL); the key is still there
    expect((await transferRow(world.ts, transfer.id)).spool_key).not.toBeNull();
    await world.engineer.post(`/api/v1/transfers/${transfer.id}/cancel`);
    await waitFor(async () => (await spoolFiles(world.ts, transfer.id)).length === 0 && (await transferRow(world.ts, transfer.id)).spool_key === null, { what: 'the spool purged' });
    await waitFor(() => access(`${hostPathOf(member, '/service/damaged.bin')}.tether-part`).then(() => false, () => true), { what: 'the partial file removed' });
  });
});
