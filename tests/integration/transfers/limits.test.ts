import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRANSFER_CHUNK_BYTES } from '#contract/transfers';
import { tempDir } from '../../helpers/server.ts';
import { type TransferWorld, download, hostPathOf, openSession, startDownload, startTransferWorld, waitForState, writeRandomFile } from './harness.ts';

const MiB = 1024 * 1024;

/** The server-wide limit on running transfers, and the per-transfer bandwidth cap. */
describe('transfer limits', () => {
  let world: TransferWorld;
  const local = tempDir('tether-limits-');

  beforeAll(async () => {
    world = await startTransferWorld('Limits Lab', [
      { serial: 'SFX-LM00001', modelId: 'stellant-flex' },
      { serial: 'SFX-LM00002', modelId: 'stellant-flex' },
    ], { transfers: { maxOverall: 2, maxPerDevice: 2, bandwidthBytesPerSec: MiB } });
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    await rm(local, { recursive: true, force: true });
  });

  it('queues a transfer on another device once the overall limit is reached, and starts it when one ends', async () => {
    const [a, b] = world.devices as [(typeof world.devices)[0], (typeof world.devices)[0]];
    const sessionA = (await openSession(world.engineer, a.id)).id;
    const sessionB = (await openSession(world.engineer, b.id)).id;
    const shaA0 = (await writeRandomFile(hostPathOf(world.fleet.get(a.serial), '/logs/limit-0.log'), 1000)).sha256;
    const shaA1 = (await writeRandomFile(hostPathOf(world.fleet.get(a.serial), '/logs/limit-1.log'), 1001)).sha256;
    const shaB = (await writeRandomFile(hostPathOf(world.fleet.get(b.serial), '/logs/limit-b.log'), 1002)).sha256;

    const first = await startDownload(world.engineer, a.id, sessionA, '/logs/limit-0.log');
    const second = await startDownload(world.engineer, a.id, sessionA, '/logs/limit-1.log');
    const other = await startDownload(world.engineer, b.id, sessionB, '/logs/limit-b.log');
    // device B is under its own limit, but the server runs two transfers in all
    expect([first.state, second.state, other.state]).toEqual(['running', 'running', 'queued']);

    expect(await download(world.engineer, first.id, join(local, 'limit-0.log'))).toBe(shaA0);
    await waitForState(world.engineer, other.id, 'running');
    expect(await download(world.engineer, other.id, join(local, 'limit-b.log'))).toBe(shaB);
    expect(await download(world.engineer, second.id, join(local, 'limit-1.log'))).toBe(shaA1);
    for (const id of [sessionA, sessionB]) await world.engineer.post(`/api/v1/sessions/${id}/end`);
  });

  it('sends a receiver no faster than the bandwidth cap', async () => {
    const device = world.devices[0]!;
    const sessionId = (await openSession(world.engineer, device.id)).id;
    const size = TRANSFER_CHUNK_BYTES / 2 + 3 * MiB; // 5 MiB in two chunks
    const sha = (await writeRandomFile(hostPathOf(world.fleet.get(device.serial), '/logs/capped.log'), size)).sha256;
    const transfer = await startDownload(world.engineer, device.id, sessionId, '/logs/capped.log');
    // the device uploads first, unpaced; the cap is on what the server hands the receiver
    await waitForState(world.engineer, transfer.id, 'running');
    const started = Date.now();
    expect(await download(world.engineer, transfer.id, join(local, 'capped.log'))).toBe(sha);
    // a cap is a floor on the time: 5 MiB at 1 MiB/s cannot arrive in much under 5 s, however fast the machine
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
  });
});
