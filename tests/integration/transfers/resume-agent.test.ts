import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandView } from '#contract/api/commands';
import type { TransferDetail } from '#contract/api/transfers';
import { TRANSFER_CHUNK_BYTES } from '#contract/transfers';
import { tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';
import {
  type TransferWorld,
  download,
  hostPathOf,
  localAudit,
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
 * Watches a device path while a transfer runs: whenever a file is there, it must be the
 * whole file (it is renamed into place only once verified). Returns the stop function,
 * which resolves to the sizes seen that were not the whole file.
 */
function watchFinalName(path: string, size: number): () => Promise<number[]> {
  const wrong: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const seen = await stat(path).then((s) => s.size, () => undefined);
      if (seen !== undefined && seen !== size) wrong.push(seen);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return wrong;
  };
}

describe('an agent that dies in the middle of a transfer', () => {
  describe('while receiving', () => {
    let world: TransferWorld;
    const local = tempDir('tether-resume-agent-');

    beforeAll(async () => {
      world = await startTransferWorld('Resume Radiology', [{ serial: 'SFX-RA00001', modelId: 'stellant-flex' }], { transfers: { bandwidthBytesPerSec: 2 * 1024 * 1024 } });
    }, 60_000);

    afterAll(async () => {
      await world?.close();
      await rm(local, { recursive: true, force: true });
    });

    it('picks up after its restart from the last verified chunk and finishes with the right hash', async () => {
      const device = world.devices[0]!;
      const sessionId = (await openSession(world.engineer, device.id)).id;
      const source = join(local, 'crash.bin');
      const manifest = await writeRandomFile(source, 4 * TRANSFER_CHUNK_BYTES + 99);
      const transfer = await startUpload(world.engineer, device.id, sessionId, source, '/service/crash.bin', { manifest });
      const final = hostPathOf(world.fleet.get(device.serial), '/service/crash.bin');
      const stopWatching = watchFinalName(final, manifest.size);
      // the agent is asking while the console sends: chunks go straight through at the agent's
      // (capped) pace, and the crash cuts one off mid-way — the upload sends it again
      const uploading = tusUpload(world.engineer, transfer.id, source, { retryDelays: [200, 500, 1000, 2000, 4000] });
      await waitFor(async () => (await world.engineer.get<TransferDetail>(`/api/v1/transfers/${transfer.id}`)).body.deliveredBytes >= TRANSFER_CHUNK_BYTES, { timeoutMs: 30_000, what: 'a chunk delivered' });
      const before = (await world.engineer.get<TransferDetail>(`/api/v1/transfers/${transfer.id}`)).body;
      expect(before.deliveredBytes).toBeLessThan(manifest.size);
      await world.fleet.inject(device.serial, 'agent-crash');
      await uploading;

      const done = await waitForState(world.engineer, transfer.id, 'completed', 90_000);
      expect(done.attempts).toBeGreaterThanOrEqual(2);
      expect(await sha256OfFile(final)).toBe(manifest.sha256);
      expect(await stopWatching()).toEqual([]);
      const starts = (await localAudit(world.fleet.get(device.serial))).filter((e) => e.action === 'transfer.start' && e.detail.transferId === transfer.id);
      expect(starts.length).toBeGreaterThanOrEqual(2);
      expect(starts.at(-1)!.detail.fromChunk).toBeGreaterThanOrEqual(1);
      await world.engineer.post(`/api/v1/sessions/${sessionId}/end`);
    }, 120_000);
    it('drops its partial file at its next start when the session ended while it was away', async () => {
      const device = world.devices[0]!;
      const sessionId = (await openSession(world.engineer, device.id)).id;
      const source = join(local, 'orphan.bin');
      const manifest = await writeRandomFile(source, 4 * TRANSFER_CHUNK_BYTES + 5);
      const transfer = await startUpload(world.engineer, device.id, sessionId, source, '/service/orphan.bin', { manifest });
      const member = world.fleet.get(device.serial);
      const partial = `${hostPathOf(member, '/service/orphan.bin')}.tether-part`;
      // sent at the agent's pace (it is asking): the session ends before the upload is through
      const uploading = tusUpload(world.engineer, transfer.id, source, { retryDelays: [200, 500, 1000] }).then(() => 'uploaded', () => 'stopped');
      await waitFor(async () => (await world.engineer.get<TransferDetail>(`/api/v1/transfers/${transfer.id}`)).body.deliveredBytes >= TRANSFER_CHUNK_BYTES, { timeoutMs: 30_000, what: 'a chunk delivered' });
      // the agent is cut off (no goodbye) for a while; meanwhile the engineer ends the session
      await world.fleet.inject(device.serial, 'network-flap', 8000);
      await world.engineer.post(`/api/v1/sessions/${sessionId}/end`);
      expect((await waitForState(world.engineer, transfer.id, 'canceled')).state).toBe('canceled');
      expect(await uploading).toBe('stopped');
      expect((await stat(partial)).size).toBeGreaterThanOrEqual(TRANSFER_CHUNK_BYTES); // left behind while away
      // back online, no command comes for it: the agent looks at what it kept and drops it
      await waitFor(() => stat(partial).then(() => undefined, () => true), { timeoutMs: 30_000, what: 'the partial file removed' });
      // the audit line follows the removal
      const cancel = await waitFor(async () => (await localAudit(member)).find((e) => e.action === 'transfer.cancel' && e.detail.transferId === transfer.id), { what: 'the cancel in the local audit' });
      expect(cancel.detail).toMatchObject({ partialRemoved: true });
    }, 90_000);
  });

  describe('while sending', () => {
    let world: TransferWorld;
    const local = tempDir('tether-resume-agent-');

    beforeAll(async () => {
      world = await startTransferWorld('Resume Nuclear', [{ serial: 'RAD-RA00002', modelId: 'radimetrics' }]);
    }, 60_000);

    afterAll(async () => {
      await world?.close();
      await rm(local, { recursive: true, force: true });
    });

    it('uploads on from the server’s offset after its restart, without reading the file again', async () => {
      const device = world.devices[0]!;
      const member = world.fleet.get(device.serial);
      const sessionId = (await openSession(world.engineer, device.id)).id;
      const { sha256, size } = await writeRandomFile(hostPathOf(member, '/exports/crash.csv'), 256 * 1024 * 1024);
      const transfer = await startDownload(world.engineer, device.id, sessionId, '/exports/crash.csv');
      const receiving = download(world.engineer, transfer.id, join(local, 'crash.csv'));
      const mid = await waitFor(async () => {
        const { uploadedBytes } = (await world.engineer.get<TransferDetail>(`/api/v1/transfers/${transfer.id}`)).body;
        return uploadedBytes >= 2 * TRANSFER_CHUNK_BYTES ? uploadedBytes : undefined;
      }, { timeoutMs: 60_000, intervalMs: 10, what: 'the upload under way' });
      await world.fleet.inject(device.serial, 'agent-crash');
      expect(mid).toBeLessThan(size);

      expect(await receiving).toBe(sha256);
      const done = await waitForState(world.engineer, transfer.id, 'completed');
      expect(done).toMatchObject({ size, sha256 });
      expect(done.attempts).toBeGreaterThanOrEqual(2);
      const starts = (await localAudit(world.fleet.get(device.serial))).filter((e) => e.action === 'transfer.start' && e.detail.transferId === transfer.id);
      expect(starts.at(-1)!.detail.fromByte).toBeGreaterThan(0);
      // the last run took the saved manifest and went on from the server's offset
      const commands = (await world.engineer.get<{ items: CommandView[] }>(`/api/v1/devices/${device.id}/commands`)).body.items;
      const last = commands.find((c) => c.name === 'send-file' && c.state === 'succeeded')!;
      const output = (await world.engineer.get<{ lines: { text: string }[] }>(`/api/v1/commands/${last.id}/output`)).body.lines.map((l) => l.text);
      expect(output.some((l) => l.startsWith('resuming the upload at byte'))).toBe(true);
      expect(output.some((l) => l.startsWith('reading'))).toBe(false);
    }, 120_000);
  });
});
