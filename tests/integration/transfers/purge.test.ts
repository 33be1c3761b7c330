import { access, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransferDetail } from '#contract/api/transfers';
import { TRANSFER_CHUNK_BYTES } from '#contract/transfers';
import { request } from '../../helpers/http.ts';
import { tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';
import {
  type TransferWorld,
  auditOf,
  hostPathOf,
  openSession,
  spoolFiles,
  startUpload,
  startTransferWorld,
  transferRow,
  tusUpload,
  waitForState,
  writeRandomFile,
} from './harness.ts';

const exists = (path: string) => access(path).then(() => true, () => false);

/** Nothing of a transfer stays on the server once it is done, canceled or expired. */
describe('transfer purge', () => {
  let world: TransferWorld;
  let deviceId: string;
  let sessionId: string;
  const local = tempDir('tether-purge-');

  beforeAll(async () => {
    // a transfer lives 6 seconds here
    world = await startTransferWorld('Purge Pediatrics', [{ serial: 'ITG-PG00001', modelId: 'intego' }], { transfers: { ttlHours: 6 / 3600, sweepMs: 100 } });
    deviceId = world.devices[0]!.id;
    sessionId = (await openSession(world.engineer, deviceId)).id;
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    await rm(local, { recursive: true, force: true });
  });

  it('purges a completed transfer: no spooled file, no key', async () => {
    const source = join(local, 'done.bin');
    const manifest = await writeRandomFile(source, TRANSFER_CHUNK_BYTES + 3);
    const transfer = await startUpload(world.engineer, deviceId, sessionId, source, '/config/done.bin', { manifest });
    expect((await transferRow(world.ts, transfer.id)).spool_key).not.toBeNull();
    await tusUpload(world.engineer, transfer.id, source);
    await waitForState(world.engineer, transfer.id, 'completed');
    await waitFor(async () => (await transferRow(world.ts, transfer.id)).purged_at !== null, { what: 'the purge' });
    expect(await spoolFiles(world.ts, transfer.id)).toEqual([]);
    expect(await transferRow(world.ts, transfer.id)).toMatchObject({ state: 'completed', spool_key: null });
    const completed = (await auditOf(world.ts, 'transfer.complete')).find((e) => e.detail?.transferId === transfer.id);
    expect(completed?.detail).toMatchObject({ size: manifest.size, sha256: manifest.sha256, path: '/config/done.bin', direction: 'to-device' });
    expect(JSON.stringify(completed)).not.toMatch(/content|bytes":"/);
  });

  it('expires an unfinished transfer at its TTL: failed, purged, partial file gone from the device', async () => {
    const source = join(local, 'slow.bin');
    const manifest = await writeRandomFile(source, 3 * TRANSFER_CHUNK_BYTES);
    const transfer = await startUpload(world.engineer, deviceId, sessionId, source, '/config/slow.bin', { manifest });
    // the console sends one chunk and goes quiet
    const first = Buffer.alloc(TRANSFER_CHUNK_BYTES);
    const file = await open(source, 'r');
    await file.read(first, 0, first.length, 0);
    await file.close();
    const patch = await request(world.ts.url, world.ts.ca, 'PATCH', `/api/v1/uploads/${transfer.id}`, {
      token: world.engineer.token!,
      rawBody: first,
      headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
    });
    expect(patch.status).toBe(204);
    const partial = `${hostPathOf(world.fleet.get('ITG-PG00001'), '/config/slow.bin')}.tether-part`;
    await waitFor(() => exists(partial), { what: 'the device receiving' });
    expect(await spoolFiles(world.ts, transfer.id)).not.toEqual([]);

    const expired = await waitForState(world.engineer, transfer.id, 'failed', 20_000);
    expect(expired.error?.code).toBe('TRANSFER_EXPIRED');
    await waitFor(async () => (await spoolFiles(world.ts, transfer.id)).length === 0, { what: 'the spool purged' });
    expect((await transferRow(world.ts, transfer.id)).spool_key).toBeNull();
    await waitFor(async () => !(await exists(partial)), { what: 'the partial file removed' });
    const retry = await world.engineer.post<{ error: { code: string } }>(`/api/v1/transfers/${transfer.id}/retry`);
    expect(retry.body.error.code).toBe('TRANSFER_EXPIRED');
    const late = await request(world.ts.url, world.ts.ca, 'HEAD', `/api/v1/uploads/${transfer.id}`, { token: world.engineer.token!, headers: { 'tus-resumable': '1.0.0' } });
    expect(late.status).toBe(409);
    expect((await world.engineer.get<TransferDetail>(`/api/v1/transfers/${transfer.id}`)).body.uploadedBytes).toBe(TRANSFER_CHUNK_BYTES);
  });
});
