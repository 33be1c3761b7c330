import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveEvent } from '#contract/api/live';
import { TRANSFER_CHUNK_BYTES } from '#contract/transfers';
import { tempDir } from '../../helpers/server.ts';
import { type TransferWorld, download, hostPathOf, openSession, sha256OfFile, startDownload, startTransferWorld, startUpload, tusUpload, waitForState, writeRandomFile } from './harness.ts';

const SIZES = [0, 1, TRANSFER_CHUNK_BYTES, TRANSFER_CHUNK_BYTES + 1, 64 * 1024 * 1024 + 12345];

describe('file transfers end to end (console ⇄ server ⇄ agent)', () => {
  let world: TransferWorld;
  let sessionId: string;
  let deviceId: string;
  const local = tempDir('tether-transfer-local-');

  beforeAll(async () => {
    world = await startTransferWorld('Round Trip Clinic', [{ serial: 'RAD-RT00001', modelId: 'radimetrics' }]);
    deviceId = world.devices[0]!.id;
    sessionId = (await openSession(world.engineer, deviceId)).id;
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    await rm(local, { recursive: true, force: true });
  });

  it('tells consoles live: every state change and throttled progress', async () => {
    const events: LiveEvent[] = [];
    const stop = world.ts.server.ctx.bus.subscribe('live', ({ event }) => {
      if (event.type.startsWith('transfer.')) events.push(event);
    });
    const source = join(local, 'live.bin');
    const manifest = await writeRandomFile(source, 3 * TRANSFER_CHUNK_BYTES);
    const up = await startUpload(world.engineer, deviceId, sessionId, source, '/service/live.bin', { manifest });
    await tusUpload(world.engineer, up.id, source);
    await waitForState(world.engineer, up.id, 'completed');
    stop();
    const mine = events.filter((e) => (e.type === 'transfer.state' ? e.transfer.id : e.type === 'transfer.progress' ? e.transferId : '') === up.id);
    const states = mine.flatMap((e) => (e.type === 'transfer.state' ? [e.transfer.state] : []));
    expect(states[0]).toBe('running');
    expect(states.at(-1)).toBe('completed');
    const progress = mine.flatMap((e) => (e.type === 'transfer.progress' ? [e] : []));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.uploadedBytes).toBe(manifest.size);
  });

  for (const size of SIZES) {
    it(`carries ${size} bytes to the device and back with the same SHA-256`, async () => {
      const member = world.fleet.get('RAD-RT00001');
      const source = join(local, `up-${size}.bin`);
      const manifest = await writeRandomFile(source, size);
      const sha = manifest.sha256;
      const devicePath = `/service/up-${size}.bin`;
      const up = await startUpload(world.engineer, deviceId, sessionId, source, devicePath, { manifest });
      expect(up.manifest?.sha256).toBe(sha);
      await tusUpload(world.engineer, up.id, source);
      const done = await waitForState(world.engineer, up.id, 'completed');
      expect(done).toMatchObject({ size, sha256: sha, deliveredBytes: size, direction: 'to-device' });
      const onDevice = hostPathOf(member, devicePath);
      expect(await sha256OfFile(onDevice)).toBe(sha);
      await expect(stat(`${onDevice}.tether-part`)).rejects.toThrow();

      const down = await startDownload(world.engineer, deviceId, sessionId, devicePath);
      const dest = join(local, `down-${size}.bin`);
      expect(await download(world.engineer, down.id, dest)).toBe(sha);
      expect(await sha256OfFile(dest)).toBe(sha);
      const back = await waitForState(world.engineer, down.id, 'completed');
      expect(back).toMatchObject({ size, sha256: sha, direction: 'from-device' });
    }, 120_000);
  }
});
