import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/server.ts';
import { type TransferWorld, download, hostPathOf, openSession, sha256OfFile, startDownload, startTransferWorld, startUpload, tusUpload, waitForState, writeRandomFile } from './harness.ts';

const GiB = 1024 ** 3;

/** One gibibyte each way through real TLS, the encrypted spool and a real agent; files are deleted afterwards. */
describe('a 1 GiB file', () => {
  let world: TransferWorld;
  let sessionId: string;
  let deviceId: string;
  const local = tempDir('tether-gib-');

  beforeAll(async () => {
    world = await startTransferWorld('Gibibyte Imaging', [{ serial: 'RAD-GB00001', modelId: 'radimetrics' }]);
    deviceId = world.devices[0]!.id;
    sessionId = (await openSession(world.engineer, deviceId)).id;
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    await rm(local, { recursive: true, force: true });
  });

  it('goes to the device whole and verified', async () => {
    const source = join(local, 'to-device.bin');
    const manifest = await writeRandomFile(source, GiB);
    const sha = manifest.sha256;
    const transfer = await startUpload(world.engineer, deviceId, sessionId, source, '/exports/gib.bin', { manifest });
    await tusUpload(world.engineer, transfer.id, source);
    await rm(source);
    expect(await waitForState(world.engineer, transfer.id, 'completed', 120_000)).toMatchObject({ size: GiB, sha256: sha, deliveredBytes: GiB });
    const onDevice = hostPathOf(world.fleet.get('RAD-GB00001'), '/exports/gib.bin');
    expect(await sha256OfFile(onDevice)).toBe(sha);
    await rm(onDevice);
  }, 180_000);

  it('comes from the device whole and verified', async () => {
    const onDevice = hostPathOf(world.fleet.get('RAD-GB00001'), '/exports/gib-from.bin');
    const { sha256: sha } = await writeRandomFile(onDevice, GiB);
    const transfer = await startDownload(world.engineer, deviceId, sessionId, '/exports/gib-from.bin');
    const dest = join(local, 'from-device.bin');
    expect(await download(world.engineer, transfer.id, dest)).toBe(sha);
    expect((await stat(dest)).size).toBe(GiB);
    expect(await waitForState(world.engineer, transfer.id, 'completed')).toMatchObject({ size: GiB, sha256: sha });
    await rm(onDevice);
    await rm(dest);
  }, 180_000);
});
