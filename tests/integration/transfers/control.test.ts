import { access, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandView } from '#contract/api/commands';
import type { TransferDetail, TransferView } from '#contract/api/transfers';
import { TRANSFER_CHUNK_BYTES } from '#contract/transfers';
import { tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';
import {
  type TransferWorld,
  auditOf,
  download,
  hostPathOf,
  localAudit,
  openSession,
  sha256OfFile,
  spoolFiles,
  startDownload,
  startTransferWorld,
  startUpload,
  transferRow,
  tusUpload,
  waitForState,
  writeRandomFile,
} from './harness.ts';

const exists = (path: string) => access(path).then(() => true, () => false);

/** Pause, resume, cancel, the per-device limit and the end of a session, with a real agent. */
describe('transfer control', () => {
  let world: TransferWorld;
  const local = tempDir('tether-control-');
  const view = async (id: string) => (await world.engineer.get<TransferDetail>(`/api/v1/transfers/${id}`)).body;

  beforeAll(async () => {
    // 2 MiB/s per transfer from the server: a few chunks take long enough to act on
    world = await startTransferWorld('Control Oncology', [
      { serial: 'SFX-CT00001', modelId: 'stellant-flex' },
      { serial: 'SFX-CT00002', modelId: 'stellant-flex' },
      { serial: 'RAD-CT00003', modelId: 'radimetrics' },
    ], { transfers: { bandwidthBytesPerSec: 2 * 1024 * 1024 } });
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    await rm(local, { recursive: true, force: true });
  });

  it('pauses (the device keeps its progress) and resumes to the right file', async () => {
    const device = world.devices[0]!;
    const sessionId = (await openSession(world.engineer, device.id)).id;
    const source = join(local, 'pause.bin');
    const manifest = await writeRandomFile(source, 4 * TRANSFER_CHUNK_BYTES + 77);
    const transfer = await startUpload(world.engineer, device.id, sessionId, source, '/service/pause.bin', { manifest });
    await tusUpload(world.engineer, transfer.id, source);
    await waitFor(async () => (await view(transfer.id)).deliveredBytes >= TRANSFER_CHUNK_BYTES, { timeoutMs: 30_000, what: 'a first chunk delivered' });
    const paused = await world.engineer.post<TransferView>(`/api/v1/transfers/${transfer.id}/pause`);
    expect(paused.body.state).toBe('paused');
    const member = world.fleet.get(device.serial);
    const partial = `${hostPathOf(member, '/service/pause.bin')}.tether-part`;
    // the device's command is stopped, and it keeps what it verified
    const commands = await world.engineer.get<{ items: CommandView[] }>(`/api/v1/devices/${device.id}/commands`);
    const receive = commands.body.items.find((c) => c.name === 'receive-file' && (c.params as { transferId: string }).transferId === transfer.id)!;
    await waitFor(async () => (await world.engineer.get<CommandView>(`/api/v1/commands/${receive.id}`)).body.state === 'canceled', { what: 'the device command canceled' });
    expect((await stat(partial)).size).toBeGreaterThanOrEqual(TRANSFER_CHUNK_BYTES);
    const content = await world.engineer.post<{ error: { code: string } }>(`/api/v1/transfers/${transfer.id}/ack`, { verifiedChunks: 0 });
    expect(content.status).toBe(403);

    const resumed = await world.engineer.post<TransferView>(`/api/v1/transfers/${transfer.id}/resume`);
    expect(['queued', 'running']).toContain(resumed.body.state);
    const done = await waitForState(world.engineer, transfer.id, 'completed');
    expect(done.sha256).toBe(manifest.sha256);
    expect(await sha256OfFile(hostPathOf(member, '/service/pause.bin'))).toBe(manifest.sha256);
    expect(await exists(partial)).toBe(false);
    const actions = (await auditOf(world.ts, 'transfer.pause')).concat(await auditOf(world.ts, 'transfer.resume'));
    expect(actions.filter((e) => e.detail?.transferId === transfer.id).map((e) => e.action).sort()).toEqual(['transfer.pause', 'transfer.resume']);
    await world.engineer.post(`/api/v1/sessions/${sessionId}/end`);
  });

  it('runs two transfers per device at once; a third waits queued and starts when one ends', async () => {
    const device = world.devices[1]!;
    const member = world.fleet.get(device.serial);
    const sessionId = (await openSession(world.engineer, device.id)).id;
    const shas: string[] = [];
    for (let i = 0; i < 3; i += 1) shas.push((await writeRandomFile(hostPathOf(member, `/logs/queue-${i}.log`), TRANSFER_CHUNK_BYTES + i)).sha256);
    const transfers = [];
    for (let i = 0; i < 3; i += 1) transfers.push(await startDownload(world.engineer, device.id, sessionId, `/logs/queue-${i}.log`));
    expect(transfers.map((t) => t.state)).toEqual(['running', 'running', 'queued']);
    const first = await download(world.engineer, transfers[0]!.id, join(local, 'queue-0.log'));
    expect(first).toBe(shas[0]);
    const third = await waitForState(world.engineer, transfers[2]!.id, 'running');
    expect(third.attempts).toBe(1);
    expect(await download(world.engineer, transfers[1]!.id, join(local, 'queue-1.log'))).toBe(shas[1]);
    expect(await download(world.engineer, transfers[2]!.id, join(local, 'queue-2.log'))).toBe(shas[2]);
    await world.engineer.post(`/api/v1/sessions/${sessionId}/end`);
  });

  it('cancels: the device drops its partial file and the server everything it held', async () => {
    const device = world.devices[2]!;
    const member = world.fleet.get(device.serial);
    const sessionId = (await openSession(world.engineer, device.id)).id;
    const source = join(local, 'cancel.bin');
    const manifest = await writeRandomFile(source, 4 * TRANSFER_CHUNK_BYTES);
    const transfer = await startUpload(world.engineer, device.id, sessionId, source, '/exports/cancel.bin', { manifest });
    await tusUpload(world.engineer, transfer.id, source);
    const partial = `${hostPathOf(member, '/exports/cancel.bin')}.tether-part`;
    await waitFor(() => exists(partial), { what: 'a partial file on the device' });
    const canceled = await world.engineer.post<TransferView>(`/api/v1/transfers/${transfer.id}/cancel`);
    expect(canceled.body.state).toBe('canceled');
    await waitFor(async () => !(await exists(partial)), { what: 'the partial file removed' });
    expect(await exists(hostPathOf(member, '/exports/cancel.bin'))).toBe(false);
    expect(await spoolFiles(world.ts, transfer.id)).toEqual([]);
    expect(await transferRow(world.ts, transfer.id)).toMatchObject({ spool_key: null, state: 'canceled' });
    expect((await localAudit(member)).some((e) => e.action === 'transfer.cancel' && e.detail.transferId === transfer.id && e.detail.partialRemoved === true)).toBe(true);
    const again = await world.engineer.post<{ error: { code: string } }>(`/api/v1/transfers/${transfer.id}/resume`);
    expect(again.body.error.code).toBe('TRANSFER_NOT_ACTIVE');
  });

  for (const [how, index] of [['the engineer ends it', 0], ['the customer revokes it', 1]] as const) {
    it(`stops running transfers when the session ends (${how}); the device drops its partial file`, async () => {
      const device = world.devices[index]!;
      const member = world.fleet.get(device.serial);
      const sessionId = (await openSession(world.engineer, device.id)).id;
      const source = join(local, 'session-end.bin');
      const manifest = await writeRandomFile(source, 4 * TRANSFER_CHUNK_BYTES);
      const transfer = await startUpload(world.engineer, device.id, sessionId, source, '/service/session-end.bin', { manifest });
      await tusUpload(world.engineer, transfer.id, source);
      const partial = `${hostPathOf(member, '/service/session-end.bin')}.tether-part`;
      await waitFor(() => exists(partial), { what: 'a partial file on the device' });
      if (how === 'the engineer ends it') await world.engineer.post(`/api/v1/sessions/${sessionId}/end`);
      else world.fleet.revokeSession(device.serial, sessionId, 'Biomed on duty');
      // a second or two (the agent hears at once; the bound here only keeps a broken build from hanging)
      const stopped = await waitForState(world.engineer, transfer.id, 'canceled', 5000);
      expect(stopped.error?.code).toBe('SESSION_ENDED');
      await waitFor(async () => !(await exists(partial)), { timeoutMs: 5000, what: 'the partial file removed' });
      expect(await exists(hostPathOf(member, '/service/session-end.bin'))).toBe(false);
      await waitFor(async () => (await spoolFiles(world.ts, transfer.id)).length === 0, { what: 'the spool purged' });
      expect((await transferRow(world.ts, transfer.id)).spool_key).toBeNull();
    });
  }
});
