import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fleet } from '../../../agent-sim/fleet.ts';
import type { LoginResponse } from '#contract/api/auth';
import type { TransferDetail } from '#contract/api/transfers';
import { TRANSFER_CHUNK_BYTES } from '#contract/transfers';
import { ApiClient } from '../../helpers/http.ts';
import { ServerProcess } from '../../helpers/server-process.ts';
import { tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';
import { ALLOW_ALL, ack, download, getChunk, hostPathOf, openSession, sha256OfFile, startDownload, startUpload, tusUpload, waitForState, writeRandomFile } from './harness.ts';

const MiB = 1024 * 1024;

/** The server as its own process, killed with SIGKILL while bytes are moving both ways. */
describe('kill -9 of the server in the middle of a transfer', () => {
  let server: ServerProcess;
  let fleet: Fleet;
  let engineer: ApiClient;
  let deviceId: string;
  let sessionId: string;
  const local = tempDir('tether-resume-server-');

  const progress = async (id: string) => (await engineer.get<TransferDetail>(`/api/v1/transfers/${id}`)).body;
  const restart = async () => {
    await server.kill9();
    await server.restart();
  };

  beforeAll(async () => {
    server = await ServerProcess.start(['--poll-window-ms', '3000']);
    const admin = await server.admin();
    const customer = await admin.post<{ id: string }>('/api/v1/customers', { name: 'Crash Transfer Clinic', region: 'eu', country: 'DE' });
    const site = await admin.post<{ id: string }>('/api/v1/sites', { customerId: customer.body.id, name: 'MR', city: 'Berlin', country: 'DE', timezone: 'Europe/Berlin' });
    const device = await admin.post<{ deviceId: string; enrollmentCode: string }>('/api/v1/devices', { siteId: site.body.id, modelId: 'radimetrics', serial: 'RAD-KS00001' });
    deviceId = device.body.deviceId;
    await admin.put(`/api/v1/customers/${customer.body.id}/consent-policy`, { policies: ALLOW_ALL });
    await admin.post('/api/v1/users', { username: 'crash-eng', displayName: 'Crash Engineer', role: 'engineer', password: 'pw-crash-eng-correct-horse', customerIds: [customer.body.id] });
    const login = await new ApiClient(server.url, server.ca).post<LoginResponse>('/api/v1/auth/login', { username: 'crash-eng', password: 'pw-crash-eng-correct-horse' });
    engineer = new ApiClient(server.url, server.ca, login.body.accessToken);
    fleet = new Fleet({
      agent: { serverUrl: server.url, serverCaPem: server.ca, backoff: { baseMs: 100, maxMs: 1000 }, dataFlushMs: 50 },
      dataDir: join(tempDir('tether-agents-'), 'agents'),
      log: pino({ level: 'silent' }),
      tickMs: 1000,
    });
    await fleet.add([{ serial: 'RAD-KS00001', modelId: 'radimetrics', enrollmentCode: device.body.enrollmentCode }]);
    fleet.startAll();
    await waitFor(async () => (await admin.get<{ status: string }>(`/api/v1/devices/${deviceId}`)).body.status === 'online', { timeoutMs: 20_000 });
    await fleet.get('RAD-KS00001').device.seedFiles();
    sessionId = (await openSession(engineer, deviceId)).id;
  }, 60_000);

  afterAll(async () => {
    await fleet?.stopAll({ goodbye: false });
    await server?.stop();
    await rm(local, { recursive: true, force: true });
  });

  it('to the device: console and agent both ride out the restart; the file arrives whole', async () => {
    const source = join(local, 'to-device.bin');
    const manifest = await writeRandomFile(source, 256 * MiB);
    const transfer = await startUpload(engineer, deviceId, sessionId, source, '/exports/to-device.bin', { manifest });
    const final = hostPathOf(fleet.get('RAD-KS00001'), '/exports/to-device.bin');
    const partialUnderFinalName: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const size = await stat(final).then((s) => s.size, () => undefined);
        if (size !== undefined && size !== manifest.size) partialUnderFinalName.push(size);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    // the console keeps retrying through the outage, as the console's engine does
    const uploading = tusUpload(engineer, transfer.id, source, { retryDelays: [250, 500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000] });
    await waitFor(async () => (await progress(transfer.id)).deliveredBytes >= 2 * TRANSFER_CHUNK_BYTES, { timeoutMs: 60_000, intervalMs: 10, what: 'chunks delivered' });
    await restart();
    expect((await progress(transfer.id)).deliveredBytes).toBeLessThan(manifest.size);
    await uploading;
    const done = await waitForState(engineer, transfer.id, 'completed', 120_000);
    expect(done.sha256).toBe(manifest.sha256);
    watching = false;
    await watcher;
    expect(await sha256OfFile(final)).toBe(manifest.sha256);
    expect(partialUnderFinalName).toEqual([]);
  }, 180_000);

  it('from the device: the agent uploads on from the committed offset after the restart', async () => {
    const member = fleet.get('RAD-KS00001');
    const { sha256, size } = await writeRandomFile(hostPathOf(member, '/exports/from-device.bin'), 256 * MiB);
    const transfer = await startDownload(engineer, deviceId, sessionId, '/exports/from-device.bin');
    await waitFor(async () => (await progress(transfer.id)).uploadedBytes >= 2 * TRANSFER_CHUNK_BYTES, { timeoutMs: 60_000, intervalMs: 10, what: 'the upload under way' });
    await restart();
    const after = await progress(transfer.id);
    expect(after.uploadedBytes % TRANSFER_CHUNK_BYTES === 0 || after.uploadedBytes === size).toBe(true);
    expect(await download(engineer, transfer.id, join(local, 'from-device.bin'))).toBe(sha256);
    expect(await waitForState(engineer, transfer.id, 'completed')).toMatchObject({ size, sha256 });
  }, 180_000);

  it('a chunk the console stored but whose acknowledgement the restart cut off is acknowledged once the agent sends it again', async () => {
    const member = fleet.get('RAD-KS00001');
    const { sha256 } = await writeRandomFile(hostPathOf(member, '/exports/cut-ack.bin'), 5 * TRANSFER_CHUNK_BYTES + 5);
    const transfer = await startDownload(engineer, deviceId, sessionId, '/exports/cut-ack.bin');
    const dest = join(local, 'cut-ack.bin');
    await download(engineer, transfer.id, dest, { untilChunk: 2 });
    // chunk 2 goes straight through to the console and is stored there; then the server dies
    const chunk = Buffer.allocUnsafe(TRANSFER_CHUNK_BYTES);
    const taken = await getChunk(engineer, transfer.id, 2, (await progress(transfer.id)).manifest!, chunk);
    expect(taken.status).toBe(206);
    await writeFile(dest, chunk.subarray(0, taken.length), { flag: 'a' });
    await restart();
    // the restarted server counts two chunks as sent; the console has three
    expect((await progress(transfer.id)).uploadedBytes).toBe(2 * TRANSFER_CHUNK_BYTES);
    const view = await ack(engineer, transfer.id, { verifiedChunks: 3 });
    // answered once the agent sent chunk 2 again (it spools: nobody asks for it), not refused
    expect(view.deliveredBytes).toBe(3 * TRANSFER_CHUNK_BYTES);
    expect(await download(engineer, transfer.id, dest, { fromChunk: 3 })).toBe(sha256);
    expect(await waitForState(engineer, transfer.id, 'completed')).toMatchObject({ sha256 });
  }, 120_000);
});
