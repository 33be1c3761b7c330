import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import https from 'node:https';
import { Upload, DefaultHttpStack } from 'tus-js-client';
import type { Fleet, FleetMember } from '../../../agent-sim/fleet.ts';
import { computeManifest } from '../../../agent-sim/agent/transfers/manifest.ts';
import type { TransferAck, TransferDetail, TransferView } from '#contract/api/transfers';
import type { SessionView } from '#contract/api/sessions';
import type { ErrorBody } from '#contract/errors';
import type { AuditEntry } from '#contract/api/audit';
import { DEVICE_SECRET_HEADER } from '#contract/protocol/enroll';
import type { LocalAuditEntry } from '../../../agent-sim/agent/local-audit.ts';
import { TRANSFER_HEADERS } from '#contract/protocol/transfers';
import type { ScopePolicies } from '#contract/sessions';
import { TRANSFER_CHUNK_BYTES, chunkRange, type TransferManifest } from '#contract/transfers';
import type { ServerConfigInput } from '../../../server/config.ts';
import { type SeededDevice, createUser, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import { type ApiClient, request } from '../../helpers/http.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

export const ALLOW_ALL: ScopePolicies = { diagnose: 'allow', files: 'allow', tunnel: 'allow', deploy: 'allow' };

/**
 * A real server (TLS on loopback), real agents for the given devices (each with its
 * simulated file system), a customer whose consent policy allows everything, and an
 * engineer who can open service sessions on them.
 */
export interface TransferWorld {
  ts: TestServer;
  fleet: Fleet;
  devices: SeededDevice[];
  customerId: string;
  engineer: ApiClient;
  engineerId: string;
  close(): Promise<void>;
}

export async function startTransferWorld(
  name: string,
  devices: readonly { serial: string; modelId: SeededDevice['modelId'] }[],
  config: Partial<ServerConfigInput> = {},
): Promise<TransferWorld> {
  const ts = await startTestServer({ pollWindowMs: 5000, ...config });
  const seeded = await seedCustomer(ts, name, devices);
  await ts.adminClient.put(`/api/v1/customers/${seeded.customer.id}/consent-policy`, { policies: ALLOW_ALL });
  const fleet = await startFleet(ts, seeded.devices, { tickMs: 1000 });
  const engineer = await createUser(ts, `${name.toLowerCase().replace(/\W+/g, '-')}-eng`, 'engineer', [seeded.customer.id]);
  await waitFor(async () => {
    const res = await ts.adminClient.get<{ items: { status: string }[] }>(`/api/v1/devices?customerId=${seeded.customer.id}`);
    return res.body.items.every((d) => d.status === 'online');
  }, { timeoutMs: 30_000, what: 'agents online' });
  for (const d of seeded.devices) await fleet.get(d.serial).device.seedFiles();
  return {
    ts,
    fleet,
    devices: seeded.devices,
    customerId: seeded.customer.id,
    engineer: engineer.client,
    engineerId: engineer.id,
    async close() {
      await fleet.stopAll({ goodbye: false });
      await ts.destroy();
    },
  };
}

/** Opens a service session (allowed by policy) with the given scopes. */
export async function openSession(client: ApiClient, deviceId: string, scopes: string[] = ['files']): Promise<SessionView> {
  const res = await client.post<SessionView>(`/api/v1/devices/${deviceId}/sessions`, { scopes, reason: 'INC-4242 file work', durationMinutes: 30 });
  if (res.status !== 201 || res.body.state !== 'active') throw new Error(`session: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The host path of a device path on a fleet member's simulated file system. */
export function hostPathOf(member: FleetMember, devicePath: string): string {
  const dir = member.device.filesDir;
  if (!dir) throw new Error(`${member.serial} has no file system`);
  return `${dir}${devicePath}`;
}

/**
 * Writes `size` random bytes, streamed through one reused buffer (flat memory; fresh
 * large buffers are slow to fault in), and returns their manifest (whole and per-chunk
 * SHA-256), computed on the way.
 */
export async function writeRandomFile(path: string, size: number): Promise<TransferManifest> {
  const whole = createHash('sha256');
  const chunks: string[] = [];
  const out = Buffer.allocUnsafe(TRANSFER_CHUNK_BYTES);
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const bytes = out.subarray(0, Math.min(out.length, size - written));
      randomFillSync(bytes);
      whole.update(bytes);
      chunks.push(createHash('sha256').update(bytes).digest('hex'));
      await file.write(bytes);
      written += bytes.length;
    }
  } finally {
    await file.close();
  }
  return { size, sha256: whole.digest('hex'), chunkSize: TRANSFER_CHUNK_BYTES, chunks };
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const file = await open(path, 'r');
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

export function manifestOfFile(path: string, size: number): Promise<TransferManifest> {
  return computeManifest(path, size, { chunkSize: TRANSFER_CHUNK_BYTES });
}

/** The console's side of a to-device transfer, done by the test: declare (the manifest is computed unless given). */
export async function startUpload(client: ApiClient, deviceId: string, sessionId: string, localPath: string, devicePath: string, options: { overwrite?: boolean; manifest?: TransferManifest } = {}): Promise<TransferDetail> {
  const manifest = options.manifest ?? (await manifestOfFile(localPath, (await stat(localPath)).size));
  const overwrite = options.overwrite ?? false;
  const res = await client.post<TransferDetail & ErrorBody>(`/api/v1/devices/${deviceId}/transfers`, {
    direction: 'to-device',
    sessionId,
    devicePath,
    fileName: devicePath.slice(devicePath.lastIndexOf('/') + 1),
    overwrite,
    manifest,
  });
  if (res.status !== 201) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Uploads a to-device transfer's bytes from `localPath` (resuming from the server's offset). */
export function tusUpload(client: ApiClient, transferId: string, localPath: string, options: { onChunk?: (accepted: number) => void; retryDelays?: number[] } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(createReadStream(localPath), {
      uploadUrl: `${client.baseUrl}/api/v1/uploads/${transferId}`,
      chunkSize: TRANSFER_CHUNK_BYTES,
      headers: { authorization: `Bearer ${client.token}` },
      httpStack: new DefaultHttpStack({ ca: client.ca, agent: new https.Agent({ ca: client.ca, keepAlive: true }) }),
      retryDelays: options.retryDelays ?? [200, 500, 1000],
      storeFingerprintForResuming: false,
      onChunkComplete: (_size, accepted) => options.onChunk?.(accepted),
      onSuccess: () => resolve(),
      onError: (err) => reject(err),
    });
    upload.start();
  });
}

/** Starts a from-device transfer of `devicePath`. */
export async function startDownload(client: ApiClient, deviceId: string, sessionId: string, devicePath: string): Promise<TransferDetail> {
  const res = await client.post<TransferDetail & ErrorBody>(`/api/v1/devices/${deviceId}/transfers`, { direction: 'from-device', sessionId, devicePath });
  if (res.status !== 201) throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** One content request, as the console makes it; a 206 body lands in `into`. */
export function getChunk(client: ApiClient, transferId: string, index: number, manifest: TransferManifest, into: Buffer): Promise<{ status: number; length: number; sha256: string | undefined; body: unknown }> {
  const { start, end } = chunkRange(index, manifest.size, manifest.chunkSize);
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(`/api/v1/transfers/${transferId}/content`, client.baseUrl), {
      method: 'GET',
      ca: client.ca,
      agent: keepAlive(client.ca),
      headers: { authorization: `Bearer ${client.token}`, range: `bytes=${start}-${end - 1}` },
    }, (res) => {
      const errorParts: Buffer[] = [];
      let length = 0;
      res.on('data', (p: Buffer) => {
        if (res.statusCode !== 206) errorParts.push(p);
        else {
          p.copy(into, length);
          length += p.length;
        }
      });
      res.on('end', () => {
        const text = Buffer.concat(errorParts).toString('utf8');
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: keep the text for the assertion
        }
        const sha = res.headers[TRANSFER_HEADERS.chunkSha256];
        resolve({ status: res.statusCode ?? 0, length, sha256: typeof sha === 'string' ? sha : undefined, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const agents = new Map<string, https.Agent>();
function keepAlive(ca: string): https.Agent {
  let agent = agents.get(ca);
  if (!agent) agents.set(ca, (agent = new https.Agent({ ca, keepAlive: true, maxSockets: 4 })));
  return agent;
}

/**
 * The console's side of a from-device transfer, done by the test: wait for the manifest,
 * fetch every chunk (waiting on CHUNK_NOT_READY), verify, write, acknowledge, then the
 * whole file. Returns the SHA-256 of what it wrote (or '' when it stopped at `untilChunk`).
 */
export async function download(client: ApiClient, transferId: string, destPath: string, options: { fromChunk?: number; untilChunk?: number } = {}): Promise<string> {
  const detail = await waitFor(async () => {
    const res = await client.get<TransferDetail>(`/api/v1/transfers/${transferId}`);
    if (res.body.state === 'failed' || res.body.state === 'canceled') throw new Error(`transfer ${res.body.state}: ${JSON.stringify(res.body.error)}`);
    return res.body.manifest ? res.body : undefined;
  }, { timeoutMs: 120_000, intervalMs: 100, what: 'the manifest' });
  const manifest = detail.manifest!;
  const file = await open(destPath, options.fromChunk ? 'r+' : 'w');
  const whole = createHash('sha256');
  const buffer = Buffer.allocUnsafe(manifest.chunkSize);
  try {
    const from = options.fromChunk ?? 0;
    for (let at = 0, end = from > 0 ? chunkRange(from - 1, manifest.size, manifest.chunkSize).end : 0; at < end; ) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, end - at), at);
      whole.update(buffer.subarray(0, bytesRead));
      at += bytesRead;
    }
    const until = options.untilChunk ?? manifest.chunks.length;
    for (let i = from; i < until; i += 1) {
      // as the console does: a chunk still on its way is asked for again, and so is one whose
      // response was cut off (the sender died while it went straight through)
      const fetchChunk = async (attempt = 1): Promise<Awaited<ReturnType<typeof getChunk>>> => {
        try {
          return await getChunk(client, transferId, i, manifest, buffer);
        } catch (err) {
          if (attempt >= 5) throw err;
          await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
          return fetchChunk(attempt + 1);
        }
      };
      let chunk = await fetchChunk();
      while (chunk.status === 409 && (chunk.body as ErrorBody).error.code === 'CHUNK_NOT_READY') chunk = await fetchChunk();
      if (chunk.status !== 206) throw new Error(`chunk ${i}: ${chunk.status} ${JSON.stringify(chunk.body)}`);
      const bytes = buffer.subarray(0, chunk.length);
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== manifest.chunks[i] || chunk.sha256 !== sha) throw new Error(`chunk ${i} failed its hash`);
      await file.write(bytes, 0, bytes.length, chunkRange(i, manifest.size, manifest.chunkSize).start);
      whole.update(bytes);
      await ack(client, transferId, { verifiedChunks: i + 1 });
    }
    if (until < manifest.chunks.length) return '';
  } finally {
    await file.close();
  }
  const sha256 = whole.digest('hex');
  await ack(client, transferId, { verifiedChunks: manifest.chunks.length, complete: true, sha256 });
  return sha256;
}

export async function ack(client: ApiClient, transferId: string, body: TransferAck): Promise<TransferView> {
  const res = await client.post<TransferView & ErrorBody>(`/api/v1/transfers/${transferId}/ack`, body);
  if (res.status !== 200) throw new Error(`ack: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Waits until the transfer reaches `state` (a timeout names the state it ended in otherwise). */
export async function waitForState(client: ApiClient, transferId: string, state: TransferView['state'], timeoutMs = 60_000): Promise<TransferDetail> {
  return waitFor(async () => {
    const res = await client.get<TransferDetail>(`/api/v1/transfers/${transferId}`);
    if (res.body.state === state) return res.body;
    if (['completed', 'failed', 'canceled'].includes(res.body.state)) throw new Error(`transfer ended ${res.body.state} (${JSON.stringify(res.body.error)}), not ${state}`);
    return undefined;
  }, { timeoutMs, intervalMs: 100, what: `transfer ${state}` });
}

/** A request to the agent API with a fleet member's own credentials (certificate, key, secret). */
export function asAgent(ts: TestServer, member: FleetMember, method: string, path: string, body?: unknown) {
  const { certificatePem, privateKeyPem, deviceSecret } = member.agent.credentials;
  return request<unknown>(ts.url, ts.ca, method, path, { cert: certificatePem, key: privateKeyPem, headers: { [DEVICE_SECRET_HEADER]: deviceSecret }, ...(body !== undefined ? { body } : {}) });
}

/** The audit entries of one action, newest first. */
export async function auditOf(ts: TestServer, action: string): Promise<AuditEntry[]> {
  return (await ts.adminClient.get<{ items: AuditEntry[] }>(`/api/v1/audit?action=${action}&limit=500`)).body.items;
}

/** The agent's local audit lines (hash-chained JSON lines). */
export async function localAudit(member: FleetMember): Promise<LocalAuditEntry[]> {
  const text = await readFile(member.agent.audit.path, 'utf8');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LocalAuditEntry);
}

/** Everything left under a transfer's spool folder (none once purged). */
export async function spoolFiles(ts: TestServer, transferId: string): Promise<string[]> {
  return readdir(join(ts.server.ctx.config.transfers.spoolDir ?? join(ts.dataDir, 'transfers'), transferId)).catch(() => []);
}

/** The transfer's row as stored (to check what the server keeps). */
export function transferRow(ts: TestServer, transferId: string) {
  return ts.server.ctx.db.selectFrom('transfers').selectAll().where('id', '=', transferId).executeTakeFirstOrThrow();
}
