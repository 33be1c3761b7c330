import { access, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListFilesResponse, TransferDetail, TransferView } from '#contract/api/transfers';
import type { ErrorBody } from '#contract/errors';
import { TRANSFER_CHUNK_BYTES } from '#contract/transfers';
import { createUser, seedCustomer } from '../../helpers/admin.ts';
import { type ApiClient, request } from '../../helpers/http.ts';
import { tempDir } from '../../helpers/server.ts';
import {
  type TransferWorld,
  asAgent,
  auditOf,
  hostPathOf,
  localAudit,
  openSession,
  spoolFiles,
  startDownload,
  startTransferWorld,
  startUpload,
  tusUpload,
  waitForState,
  writeRandomFile,
} from './harness.ts';

const GiB = 1024 ** 3;
const hash = (c: string) => c.repeat(64);

describe('transfer refusals', () => {
  let world: TransferWorld;
  let injectorId: string;
  let serverId: string;
  let sessionId: string;
  let viewer: ApiClient;
  let outsider: ApiClient;
  let observer: ApiClient;
  let otherCustomerDevice: string;
  const local = tempDir('tether-refusals-');

  const toDevice = (overrides: Record<string, unknown> = {}) => ({
    direction: 'to-device',
    sessionId,
    devicePath: '/service/tool.bin',
    fileName: 'tool.bin',
    manifest: { size: 1, sha256: hash('a'), chunkSize: TRANSFER_CHUNK_BYTES, chunks: [hash('b')] },
    ...overrides,
  });
  const create = (client: ApiClient, deviceId: string, body: unknown) => client.post<TransferDetail & ErrorBody>(`/api/v1/devices/${deviceId}/transfers`, body);
  const deniedCreates = async () => (await auditOf(world.ts, 'transfer.create')).filter((e) => e.outcome === 'denied');

  beforeAll(async () => {
    // a request for what the sender has not sent yet waits 2 s (15 s by default) before it is told so
    world = await startTransferWorld('Refusal Radiology', [
      { serial: 'SFX-RF00001', modelId: 'stellant-flex' },
      { serial: 'RAD-RF00002', modelId: 'radimetrics' },
    ], { transfers: { contentWaitMs: 2000 } });
    injectorId = world.devices[0]!.id;
    serverId = world.devices[1]!.id;
    sessionId = (await openSession(world.engineer, injectorId)).id;
    viewer = (await createUser(world.ts, 'refusal-viewer', 'viewer', [world.customerId])).client;
    observer = (await createUser(world.ts, 'refusal-observer', 'engineer', [world.customerId])).client;
    const other = await seedCustomer(world.ts, 'Elsewhere Imaging', [{ serial: 'SFX-RF00099', modelId: 'stellant-flex' }]);
    otherCustomerDevice = other.devices[0]!.id;
    outsider = (await createUser(world.ts, 'refusal-outsider', 'engineer', [other.customer.id])).client;
  }, 60_000);

  afterAll(async () => {
    await world?.close();
    await rm(local, { recursive: true, force: true });
  });

  it('needs a session with the files scope, still active', async () => {
    const diagnoseOnly = await openSession(world.engineer, serverId, ['diagnose']);
    const noScope = await create(world.engineer, serverId, toDevice({ sessionId: diagnoseOnly.id }));
    expect(noScope.status).toBe(403);
    expect(noScope.body.error.code).toBe('SESSION_REQUIRED');
    await world.engineer.post(`/api/v1/sessions/${diagnoseOnly.id}/end`);
    const ended = await create(world.engineer, serverId, toDevice({ sessionId: diagnoseOnly.id }));
    expect(ended.status).toBe(409);
    expect(ended.body.error.code).toBe('SESSION_NOT_ACTIVE');
    const denied = await deniedCreates();
    expect(denied.filter((e) => e.detail?.sessionId === diagnoseOnly.id).map((e) => e.detail?.code).sort()).toEqual(['SESSION_NOT_ACTIVE', 'SESSION_REQUIRED']);
  });

  it('refuses viewers (403), observers (403) and engineers outside the customer (404)', async () => {
    const byViewer = await create(viewer, injectorId, toDevice());
    expect(byViewer.status).toBe(403);
    expect(byViewer.body.error.code).toBe('FORBIDDEN');
    const byObserver = await create(observer, injectorId, toDevice());
    expect(byObserver.status).toBe(403);
    const byOutsider = await create(outsider, injectorId, toDevice());
    expect(byOutsider.status).toBe(404);
    expect(byOutsider.body.error.code).toBe('NOT_FOUND');
    const elsewhere = await create(world.engineer, otherCustomerDevice, toDevice());
    expect(elsewhere.status).toBe(404);
    const codes = (await deniedCreates()).map((e) => e.detail?.code);
    expect(codes).toEqual(expect.arrayContaining(['FORBIDDEN', 'NOT_FOUND']));
  });

  it('refuses bad manifests and paths outside the roots, audited, with nothing written', async () => {
    const before = (await deniedCreates()).length;
    const bad = [
      toDevice({ manifest: { size: 10, sha256: 'nope', chunkSize: TRANSFER_CHUNK_BYTES, chunks: [hash('b')] } }),
      toDevice({ manifest: { size: 2 * TRANSFER_CHUNK_BYTES, sha256: hash('a'), chunkSize: TRANSFER_CHUNK_BYTES, chunks: [hash('b')] } }),
      toDevice({ manifest: { size: 1, sha256: hash('a'), chunkSize: 1, chunks: [hash('b')] } }),
      toDevice({ manifest: undefined }),
      toDevice({ fileName: '' }),
    ];
    for (const body of bad) {
      const res = await create(world.engineer, injectorId, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
    for (const devicePath of ['/etc/passwd', '/service', 'service/tool.bin', '/logs//x', '/service/../../etc/passwd']) {
      const res = await create(world.engineer, injectorId, toDevice({ devicePath }));
      expect(res.status, devicePath).toBe(403);
      expect(res.body.error.code).toBe('PATH_NOT_ALLOWED');
    }
    expect((await deniedCreates()).length - before).toBe(bad.length + 5);
    const listed = await world.engineer.get<{ items: TransferView[] }>(`/api/v1/devices/${injectorId}/transfers`);
    expect(listed.body.items).toEqual([]);
  });

  it('refuses a file larger than the model takes, both ways, audited and with nothing written', async () => {
    const chunks = Math.ceil((9 * GiB) / TRANSFER_CHUNK_BYTES);
    const tooBig = await create(world.engineer, injectorId, toDevice({ manifest: { size: 9 * GiB, sha256: hash('a'), chunkSize: TRANSFER_CHUNK_BYTES, chunks: Array.from({ length: chunks }, () => hash('c')) } }));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('FILE_TOO_LARGE');
    expect((await deniedCreates()).some((e) => e.detail?.code === 'FILE_TOO_LARGE')).toBe(true);

    // a sparse 9 GiB log on the injector: the agent refuses to send it without reading it
    const member = world.fleet.get('SFX-RF00001');
    const huge = hostPathOf(member, '/logs/huge.log');
    await writeFile(huge, '');
    await truncate(huge, 9 * GiB);
    const transfer = await startDownload(world.engineer, injectorId, sessionId, '/logs/huge.log');
    const failed = await waitForState(world.engineer, transfer.id, 'failed');
    expect(failed.error?.code).toBe('FILE_TOO_LARGE');
    expect(failed.manifest).toBeNull();
    expect(await spoolFiles(world.ts, transfer.id)).toEqual([]);
    expect((await localAudit(member)).some((e) => e.action === 'files.refused' && e.detail.code === 'FILE_TOO_LARGE' && e.detail.path === '/logs/huge.log')).toBe(true);
    expect((await auditOf(world.ts, 'transfer.fail')).some((e) => e.detail?.transferId === transfer.id && e.detail?.code === 'FILE_TOO_LARGE')).toBe(true);
    await rm(huge);
  });

  it('keeps a transfer away from other devices, observers, viewers and outsiders', async () => {
    const source = join(local, 'guarded.bin');
    const manifest = await writeRandomFile(source, 1000);
    const transfer = await startUpload(world.engineer, injectorId, sessionId, source, '/service/guarded.bin', { manifest });
    // the other device's agent: no such transfer for it
    const other = world.fleet.get('RAD-RF00002');
    for (const [method, path, body] of [
      ['GET', `/agent/v1/transfers/${transfer.id}`, undefined],
      ['GET', `/agent/v1/transfers/${transfer.id}/content`, undefined],
      ['POST', `/agent/v1/transfers/${transfer.id}/ack`, { verifiedChunks: 0 }],
    ] as const) {
      const res = await asAgent(world.ts, other, method, path, body);
      expect(res.status, path).toBe(404);
    }
    expect((await auditOf(world.ts, 'transfer.access')).filter((e) => e.targetId === transfer.id && e.outcome === 'denied').length).toBe(3);
    // the device's own agent cannot upload a to-device transfer's bytes
    const ownAgent = await asAgent(world.ts, world.fleet.get('SFX-RF00001'), 'POST', `/agent/v1/transfers/${transfer.id}/manifest`, manifest);
    expect(ownAgent.status).toBe(409);
    for (const client of [viewer, observer]) {
      const content = await client.get<ErrorBody>(`/api/v1/transfers/${transfer.id}/content`, { headers: { range: 'bytes=0-999' } });
      expect(content.status).toBe(403);
      const pause = await client.post<ErrorBody>(`/api/v1/transfers/${transfer.id}/pause`);
      expect(pause.status).toBe(403);
    }
    expect((await outsider.get<ErrorBody>(`/api/v1/transfers/${transfer.id}`)).status).toBe(404);
    expect((await viewer.get<TransferDetail>(`/api/v1/transfers/${transfer.id}`)).body.id).toBe(transfer.id);
    // malformed requests get clear 4xx answers, never a 500
    const wrongOffset = await request(world.ts.url, world.ts.ca, 'PATCH', `/api/v1/uploads/${transfer.id}`, {
      token: world.engineer.token!,
      rawBody: Buffer.alloc(10),
      headers: { 'tus-resumable': '1.0.0', 'upload-offset': '5', 'content-type': 'application/offset+octet-stream' },
    });
    expect(wrongOffset.status).toBe(409);
    const wrongType = await request(world.ts.url, world.ts.ca, 'PATCH', `/api/v1/uploads/${transfer.id}`, { token: world.engineer.token!, rawBody: 'x', headers: { 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'text/plain' } });
    expect(wrongType.status).toBe(400);
    // an acknowledgement of a chunk the sender has not sent: held for the wait, then told it is not there
    const early = await asAgent(world.ts, world.fleet.get('SFX-RF00001'), 'POST', `/agent/v1/transfers/${transfer.id}/ack`, { verifiedChunks: 1 });
    expect(early.status).toBe(409);
    expect((early.body as ErrorBody).error.code).toBe('CHUNK_NOT_READY');
    expect((await world.engineer.get<TransferDetail>(`/api/v1/transfers/${transfer.id}`)).body).toMatchObject({ state: 'running', deliveredBytes: 0 });
    const noRange = await asAgent(world.ts, world.fleet.get('SFX-RF00001'), 'GET', `/agent/v1/transfers/${transfer.id}/content`);
    expect([400, 409]).toContain(noRange.status);
    const unknown = await world.engineer.get<ErrorBody>('/api/v1/transfers/no-such-transfer');
    expect(unknown.status).toBe(404);
    // the console sends a to-device file; it does not read it back through content
    const own = await world.engineer.get<ErrorBody>(`/api/v1/transfers/${transfer.id}/content`, { headers: { range: 'bytes=0-999' } });
    expect(own.status).toBe(403);
    await tusUpload(world.engineer, transfer.id, source);
    await waitForState(world.engineer, transfer.id, 'completed');
  });

  it('lists device folders through the session, refusing paths outside the roots', async () => {
    const logs = await world.engineer.post<ListFilesResponse & ErrorBody>(`/api/v1/devices/${injectorId}/files/list`, { sessionId, path: '/logs' });
    expect(logs.status).toBe(200);
    expect(logs.body.entries.length).toBeGreaterThan(0);
    const roots = await world.engineer.post<ListFilesResponse>(`/api/v1/devices/${injectorId}/files/list`, { sessionId, path: '/' });
    expect(roots.body.entries.map((e) => e.path)).toEqual(['/config', '/logs', '/service']);
    const outside = await world.engineer.post<ErrorBody>(`/api/v1/devices/${injectorId}/files/list`, { sessionId, path: '/etc' });
    expect(outside.status).toBe(403);
    expect(outside.body.error.code).toBe('PATH_NOT_ALLOWED');
    const missing = await world.engineer.post<ErrorBody>(`/api/v1/devices/${injectorId}/files/list`, { sessionId, path: '/logs/none-such' });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('FILE_NOT_FOUND');
    const byViewer = await viewer.post<ErrorBody>(`/api/v1/devices/${injectorId}/files/list`, { sessionId, path: '/logs' });
    expect(byViewer.status).toBe(403);
  });

  it('never lets a refused upload leave anything under the final name', async () => {
    const target = hostPathOf(world.fleet.get('SFX-RF00001'), '/service/tool.bin');
    await expect(access(target)).rejects.toThrow();
  });
});
