import { createCipheriv, createHash } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../../agent-sim/fleet.ts';
import { type ComposedConsole } from '../../../src/main/composition.ts';
import { dispatchCall } from '../../../src/main/dispatch.ts';
import { startBrowserBridge } from '../../../src/main/web.ts';
import type { SessionView } from '#contract/api/sessions';
import type { IpcCallName, IpcError, IpcInput, IpcOutput, TransferItem } from '#contract/ipc';
import type { ScopePolicies } from '#contract/sessions';
import { PARTIAL_SUFFIX, TRANSFER_CHUNK_BYTES } from '#contract/transfers';
import { type SeededDevice, createUser, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import type { ApiClient } from '../../helpers/http.ts';
import { composeTestConsole } from '../../helpers/console.ts';
import { type TestServer, startTestServer, tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

/**
 * The console's transfer engine against the real server and real agents over TLS on
 * loopback: files both ways through the same calls the renderer makes, a console restart
 * in the middle of a download, and what the user is told when something is refused.
 */

const ALLOW_ALL: ScopePolicies = { diagnose: 'allow', files: 'allow', tunnel: 'allow', deploy: 'allow' };
/** Slow enough that a download of a few chunks is still running when the test acts on it. */
const BANDWIDTH = 6 * 1024 * 1024;

/** Pseudo-random bytes (AES-CTR over zeros: streaming, flat memory); returns their SHA-256. */
async function writeRandomFile(path: string, size: number, seed: string): Promise<string> {
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  const hash = createHash('sha256');
  const zeros = Buffer.alloc(1024 * 1024);
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < size; written += zeros.length) {
      const bytes = cipher.update(zeros.subarray(0, Math.min(zeros.length, size - written)));
      hash.update(bytes);
      await file.write(bytes);
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/** A plain HTTP request to the browser bridge, path and headers exactly as given. */
function request(origin: string, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const { port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Lets bytes through at `bytesPerSecond` at most (a slow uplink). */
function pace(bytesPerSecond: number): Transform {
  let freeAt = Date.now();
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      freeAt = Math.max(freeAt, Date.now()) + (chunk.length * 1000) / bytesPerSecond;
      setTimeout(() => done(null, chunk), Math.max(0, freeAt - Date.now()));
    },
  });
}

/**
 * A TCP relay in front of the server, standing for the network between console and
 * server: `cut()` drops every connection and refuses new ones until `restore()`;
 * `uplinkBytesPerSecond` slows what the console sends.
 */
async function startRelay(targetUrl: string, uplinkBytesPerSecond?: number): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    (uplinkBytesPerSecond ? client.pipe(pace(uplinkBytesPerSecond)) : client).pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const data of createReadStream(path)) hash.update(data as Buffer);
  return hash.digest('hex');
}

/** One console process's main side, driven through the contract exactly as the renderer drives it. */
interface TestConsole extends ComposedConsole {
  seen: TransferItem[][];
  call<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>>;
  failure<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcError>;
  item(id: string): TransferItem | undefined;
  until(id: string, check: (item: TransferItem) => boolean, what: string, timeoutMs?: number): Promise<TransferItem>;
}

describe('the console transfer engine against the real server and agents', () => {
  let ts: TestServer;
  let fleet: Fleet;
  let device: SeededDevice;
  let engineer: { client: ApiClient; password: string };
  let root: string;
  let filesDir: string;
  let session: SessionView;
  const consoles: TestConsole[] = [];

  async function startConsole(home: string, serverUrl = ts.url): Promise<TestConsole> {
    const composed = composeTestConsole({
      home,
      transfers: { pollMs: 500, retry: { baseMs: 100, maxMs: 1000, maxAttempts: 10 } },
    });
    const seen: TransferItem[][] = [];
    composed.events.attach((event, payload) => {
      if (event === 'transfers.changed') seen.push((payload as { items: TransferItem[] }).items);
    });
    const call = async <K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>> => {
      const result = await dispatchCall(composed.handlers, name, input);
      if (!result.ok) throw Object.assign(new Error(`${name}: ${result.error.code} ${result.error.message}`), result.error);
      return result.output as IpcOutput<K>;
    };
    const item = (id: string) => composed.transfers.list().find((i) => i.id === id);
    const console: TestConsole = {
      ...composed,
      seen,
      call,
      async failure(name, input) {
        const result = await dispatchCall(composed.handlers, name, input);
        if (result.ok) throw new Error(`${name} succeeded: ${JSON.stringify(result.output)}`);
        return result.error;
      },
      item,
      until: (id, check, what, timeoutMs = 60_000) =>
        waitFor(
          () => {
            const found = item(id);
            if (found && ['failed', 'canceled'].includes(found.state) && !check(found)) throw new Error(`${what}: the transfer ${found.state}: ${JSON.stringify(found.error)}`);
            return found && check(found) ? found : undefined;
          },
          { timeoutMs, what, intervalMs: 50 },
        ),
    };
    // a restarted console finds its profile in its home, as the user's would
    const known = (await call('profiles.list', {})).profiles.find((p) => p.name === 'Test server');
    const profile = known ?? (await call('profiles.save', { name: 'Test server', url: serverUrl, caPem: ts.ca, proxy: null }));
    await call('session.signIn', { profileId: profile.id, username: 'files-eng', password: engineer.password });
    consoles.push(console);
    return console;
  }

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: 2000, transfers: { bandwidthBytesPerSec: BANDWIDTH, contentWaitMs: 3000, sweepMs: 200 } });
    const seeded = await seedCustomer(ts, 'Files Clinic', [{ serial: 'SFX-CF00001', modelId: 'stellant-flex' }]);
    device = seeded.devices[0]!;
    await ts.adminClient.put(`/api/v1/customers/${seeded.customer.id}/consent-policy`, { policies: ALLOW_ALL });
    engineer = await createUser(ts, 'files-eng', 'engineer', [seeded.customer.id]);
    root = tempDir('tether-console-transfers-');
    fleet = await startFleet(ts, [device], { dataDir: join(root, 'agents'), tickMs: 1000 });
    await waitFor(async () => (await ts.adminClient.get<{ items: { status: string }[] }>(`/api/v1/devices/${device.id}`)).body && (await ts.adminClient.get<{ status: string }>(`/api/v1/devices/${device.id}`)).body.status === 'online', {
      timeoutMs: 30_000,
      what: 'the agent online',
    });
    const member = fleet.get(device.serial);
    await member.device.seedFiles();
    filesDir = member.device.filesDir!;
    const res = await engineer.client.post<SessionView>(`/api/v1/devices/${device.id}/sessions`, { scopes: ['files'], reason: 'INC-7001 file work', durationMinutes: 60 });
    if (res.status !== 201 || res.body.state !== 'active') throw new Error(`session: ${res.status} ${JSON.stringify(res.body)}`);
    session = res.body;
  });

  afterAll(async () => {
    for (const c of consoles) await c.service.shutdown();
    await fleet?.stopAll({ goodbye: false });
    await ts?.destroy();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('sends a local file to the device and fetches it back, both verified, through the console calls', async () => {
    const app = await startConsole(join(root, 'home-round-trip'));
    const local = join(root, 'calibration-2025.bin');
    const size = 2 * TRANSFER_CHUNK_BYTES + 12_345;
    const sha256 = await writeRandomFile(local, size, 'round trip');

    const started = await app.call('transfers.upload', { deviceId: device.id, sessionId: session.id, localPath: local, devicePath: '/service/' });
    expect(started).toMatchObject({ direction: 'to-device', devicePath: '/service/calibration-2025.bin', deviceSerial: device.serial, fileName: 'calibration-2025.bin', localPath: local });
    const sent = await app.until(started.id, (i) => i.state === 'completed', 'the upload to complete');
    expect(sent).toMatchObject({ size, sha256, bytesDone: size, error: null });
    expect(await sha256Of(join(filesDir, 'service', 'calibration-2025.bin'))).toBe(sha256);

    const saveDir = join(root, 'downloads-round-trip');
    const { items } = await app.call('transfers.download', { deviceId: device.id, sessionId: session.id, devicePaths: ['/service/calibration-2025.bin'], saveDir });
    expect(items).toHaveLength(1);
    const fetched = await app.until(items[0]!.id, (i) => i.state === 'completed', 'the download to complete');
    expect(fetched.localPath).toBe(join(saveDir, 'calibration-2025.bin'));
    expect(await sha256Of(fetched.localPath!)).toBe(sha256);
    expect(readdirSync(saveDir)).toEqual(['calibration-2025.bin']);

    // the panel saw it move: progress with a speed while running, and the engine's view is in the contract
    const running = app.seen.flat().filter((i) => i.id === items[0]!.id && i.state === 'running');
    expect(running.length).toBeGreaterThan(0);
    expect(app.seen.flat().some((i) => i.id === started.id && i.stage === 'preparing')).toBe(true);

    // the same file again: the one already there is kept, the new one gets a number
    const again = await app.call('transfers.download', { deviceId: device.id, sessionId: session.id, devicePaths: ['/service/calibration-2025.bin'], saveDir });
    const second = await app.until(again.items[0]!.id, (i) => i.state === 'completed', 'the second download');
    expect(second.localPath).toBe(join(saveDir, 'calibration-2025 (1).bin'));
    expect(await sha256Of(second.localPath!)).toBe(sha256);
    expect(readdirSync(saveDir).sort()).toEqual(['calibration-2025 (1).bin', 'calibration-2025.bin']);
  }, 120_000);

  it('continues a download after the console restarts, from the verified chunks, with nothing under the final name before the end', async () => {
    const home = join(root, 'home-restart');
    const saveDir = join(root, 'downloads-restart');
    const size = 12 * TRANSFER_CHUNK_BYTES + 99;
    const sha256 = await writeRandomFile(join(filesDir, 'logs', 'trace-full.bin'), size, 'restart');
    const finalPath = join(saveDir, 'trace-full.bin');

    // whenever the panel hears of it, the final name is empty until the whole file verified
    const early: string[] = [];
    const watched = { id: '' };
    const watch = (app: TestConsole) =>
      app.events.attach((event, payload) => {
        const item = event === 'transfers.changed' ? (payload as { items: TransferItem[] }).items.find((i) => i.id === watched.id) : undefined;
        if (item && existsSync(finalPath) && item.state !== 'completed' && item.stage !== 'verifying') early.push(`${item.state}/${item.stage} at ${item.bytesDone}`);
      });

    const first = await startConsole(home);
    watch(first);
    const { items } = await first.call('transfers.download', { deviceId: device.id, sessionId: session.id, devicePaths: ['/logs/trace-full.bin'], saveDir });
    const id = items[0]!.id;
    watched.id = id;
    const midway = await first.until(id, (i) => i.bytesDone >= 3 * TRANSFER_CHUNK_BYTES, 'three chunks verified');
    expect(midway.state).toBe('running');
    expect(existsSync(finalPath)).toBe(false);
    expect(existsSync(finalPath + PARTIAL_SUFFIX)).toBe(true);
    await first.service.shutdown();
    expect(first.item(id)).toBeUndefined(); // a stopped engine shows nothing; the record is on disk

    const second = await startConsole(home);
    watch(second);
    const resumed = await second.until(id, (i) => i.state === 'running' || i.state === 'completed', 'the download listed again');
    // it starts from what was verified before, not from zero
    expect(resumed.bytesDone).toBeGreaterThanOrEqual(3 * TRANSFER_CHUNK_BYTES);
    const done = await second.until(id, (i) => i.state === 'completed', 'the resumed download to complete', 90_000);
    expect(done.localPath).toBe(finalPath);
    expect(await sha256Of(finalPath)).toBe(sha256);
    expect(existsSync(finalPath + PARTIAL_SUFFIX)).toBe(false);
    expect(early).toEqual([]);
    expect(second.seen.flat().filter((i) => i.id === id).every((i) => i.state === 'completed' || i.localPath === null)).toBe(true);
  }, 180_000);

  it('continues an upload after the console restarts, from the server’s offset', async () => {
    const relay = await startRelay(ts.url, 8 * 1024 * 1024);
    try {
      const home = join(root, 'home-upload-restart');
      const local = join(root, 'service-pack.bin');
      const size = 6 * TRANSFER_CHUNK_BYTES + 5;
      const sha256 = await writeRandomFile(local, size, 'upload restart');

      const first = await startConsole(home, relay.url);
      const started = await first.call('transfers.upload', { deviceId: device.id, sessionId: session.id, localPath: local, devicePath: '/service/' });
      // the server's id comes once the file is hashed and declared
      expect(started.transferId).toBeNull();
      const sending = await first.until(started.id, (i) => i.stage === 'uploading' && i.bytesMoved >= 2 * TRANSFER_CHUNK_BYTES, 'two chunks sent');
      // a PATCH carries many chunks: stop once the server counts at least one (sent on and confirmed, or spooled)
      await waitFor(async () => (await engineer.client.get<{ uploadedBytes: number }>(`/api/v1/transfers/${sending.transferId}`)).body.uploadedBytes > 0 || undefined, {
        timeoutMs: 30_000,
        what: 'a chunk counted by the server',
      });
      await first.service.shutdown();
      const server = await engineer.client.get<{ uploadedBytes: number; state: string }>(`/api/v1/transfers/${sending.transferId}`);
      expect(server.body.uploadedBytes).toBeGreaterThan(0);
      expect(server.body.uploadedBytes).toBeLessThan(size);

      const second = await startConsole(home, relay.url);
      const resumed = await second.until(started.id, (i) => i.stage === 'uploading', 'the upload going on');
      // tus asked the server how far it got: no byte below its offset is sent again
      expect(resumed.bytesMoved).toBeGreaterThanOrEqual(server.body.uploadedBytes);
      const done = await second.until(started.id, (i) => i.state === 'completed', 'the resumed upload to complete', 90_000);
      expect(done).toMatchObject({ size, sha256 });
      expect(await sha256Of(join(filesDir, 'service', 'service-pack.bin'))).toBe(sha256);
    } finally {
      await relay.close();
    }
  }, 180_000);

  it('rides out a network cut in the middle of a download: retries with backoff, continues, right hash', async () => {
    const relay = await startRelay(ts.url);
    try {
      const app = await startConsole(join(root, 'home-network-cut'), relay.url);
      const saveDir = join(root, 'downloads-network-cut');
      const size = 8 * TRANSFER_CHUNK_BYTES + 1;
      const sha256 = await writeRandomFile(join(filesDir, 'logs', 'cut.bin'), size, 'network cut');
      const { items } = await app.call('transfers.download', { deviceId: device.id, sessionId: session.id, devicePaths: ['/logs/cut.bin'], saveDir });
      const id = items[0]!.id;
      await app.until(id, (i) => i.bytesDone >= 2 * TRANSFER_CHUNK_BYTES, 'two chunks verified');
      relay.cut();
      const retrying = await app.until(id, (i) => i.stage === 'retrying', 'the engine to notice and wait to retry');
      expect(retrying).toMatchObject({ state: 'running', error: { code: 'SERVER_UNREACHABLE' } });
      expect(retrying.attempts).toBeGreaterThan(0);
      expect(retrying.nextRetryAt).not.toBeNull();
      relay.restore();
      const done = await app.until(id, (i) => i.state === 'completed', 'the download after the cut', 90_000);
      expect(done.error).toBeNull();
      expect(await sha256Of(done.localPath!)).toBe(sha256);
      expect(readdirSync(saveDir)).toEqual(['cut.bin']);
    } finally {
      await relay.close();
    }
  }, 120_000);

  it('pauses and resumes a download, and cancels one: its partial file goes', async () => {
    const app = await startConsole(join(root, 'home-controls'));
    const saveDir = join(root, 'downloads-controls');
    mkdirSync(saveDir, { recursive: true });
    const size = 8 * TRANSFER_CHUNK_BYTES;
    const sha256 = await writeRandomFile(join(filesDir, 'logs', 'paused.bin'), size, 'pause');
    await writeRandomFile(join(filesDir, 'logs', 'canceled.bin'), size, 'cancel');
    const { items } = await app.call('transfers.download', { deviceId: device.id, sessionId: session.id, devicePaths: ['/logs/paused.bin', '/logs/canceled.bin'], saveDir });
    const [paused, canceled] = items as [TransferItem, TransferItem];

    await app.until(paused.id, (i) => i.bytesDone >= TRANSFER_CHUNK_BYTES, 'the first chunk');
    expect((await app.call('transfers.pause', { id: paused.id })).state).toBe('paused');
    const server = await engineer.client.get<{ state: string }>(`/api/v1/transfers/${paused.transferId}`);
    expect(server.body.state).toBe('paused');
    const heldAt = app.item(paused.id)!.bytesDone;
    expect((await app.failure('transfers.pause', { id: paused.id })).code).toBe('TRANSFER_NOT_ACTIVE');

    await app.until(canceled.id, (i) => i.bytesDone >= TRANSFER_CHUNK_BYTES, 'the other download moving');
    expect((await app.call('transfers.cancel', { id: canceled.id })).state).toBe('canceled');
    expect(existsSync(join(saveDir, `canceled.bin${PARTIAL_SUFFIX}`))).toBe(false);
    expect(existsSync(join(saveDir, 'canceled.bin'))).toBe(false);
    expect((await engineer.client.get<{ state: string }>(`/api/v1/transfers/${canceled.transferId}`)).body.state).toBe('canceled');

    // nothing moved while paused
    expect(app.item(paused.id)!.bytesDone).toBe(heldAt);
    await app.call('transfers.resume', { id: paused.id });
    const done = await app.until(paused.id, (i) => i.state === 'completed', 'the resumed download', 90_000);
    expect(await sha256Of(done.localPath!)).toBe(sha256);
    expect(readdirSync(saveDir)).toEqual(['paused.bin']);
  }, 120_000);

  it('refuses at once what cannot work — outside the roots, too large, no such staged file — and fails clearly what the device refuses', async () => {
    const app = await startConsole(join(root, 'home-refusals'));
    const local = join(root, 'small.txt');
    writeFileSync(local, 'service notes');
    const outside = await app.failure('transfers.upload', { deviceId: device.id, sessionId: session.id, localPath: local, devicePath: '/etc/' });
    expect(outside.code).toBe('PATH_NOT_ALLOWED');
    const climbing = await app.failure('transfers.download', { deviceId: device.id, sessionId: session.id, devicePaths: ['/logs/../../etc/passwd'] });
    expect(climbing.code).toBe('PATH_NOT_ALLOWED');
    // larger than the model takes (8 GiB for an injector): refused before a byte is read (a sparse file)
    const huge = join(root, 'huge.img');
    writeFileSync(huge, '');
    truncateSync(huge, 9 * 1024 ** 3);
    const tooLarge = await app.failure('transfers.upload', { deviceId: device.id, sessionId: session.id, localPath: huge, devicePath: '/service/' });
    expect(tooLarge.code).toBe('FILE_TOO_LARGE');
    expect(tooLarge.message).toContain('8 GiB');
    rmSync(huge);
    const missingLocal = await app.failure('transfers.upload', { deviceId: device.id, sessionId: session.id, localPath: join(root, 'nope.bin'), devicePath: '/service/' });
    expect(missingLocal.code).toBe('FILE_NOT_FOUND');
    const staged = await app.failure('transfers.upload', { deviceId: device.id, sessionId: session.id, stagedId: '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b', devicePath: '/service/' });
    expect(staged.code).toBe('FILE_NOT_FOUND');
    const both = await app.failure('transfers.upload', { deviceId: device.id, sessionId: session.id, devicePath: '/service/' });
    expect(both.code).toBe('VALIDATION_FAILED');

    // the device has no such file: the transfer fails with the device's reason
    const { items } = await app.call('transfers.download', { deviceId: device.id, sessionId: session.id, devicePaths: ['/logs/not-there.log'], saveDir: join(root, 'downloads-refusals') });
    const failed = await app.until(items[0]!.id, (i) => i.state === 'failed', 'the download to fail');
    expect(failed.error?.code).toBe('FILE_NOT_FOUND');
    expect(readdirSync(join(root, 'downloads-refusals'))).toEqual([]);

    // an existing file is not replaced unless asked
    writeFileSync(join(root, 'settings.json'), '{"volume": 3}');
    const kept = await app.call('transfers.upload', { deviceId: device.id, sessionId: session.id, localPath: join(root, 'settings.json'), devicePath: '/config/' });
    const refused = await app.until(kept.id, (i) => i.state === 'failed', 'the upload over an existing file to fail');
    expect(refused.error?.code).toBe('FILE_EXISTS');
    expect(readFileSync(join(filesDir, 'config', 'settings.json'), 'utf8')).not.toBe('{"volume": 3}');
    const replaced = await app.call('transfers.upload', { deviceId: device.id, sessionId: session.id, localPath: join(root, 'settings.json'), devicePath: '/config/', overwrite: true });
    await app.until(replaced.id, (i) => i.state === 'completed', 'the replacing upload');
    expect(readFileSync(join(filesDir, 'config', 'settings.json'), 'utf8')).toBe('{"volume": 3}');
  });

  it('browser mode: a file handed over the bridge goes to the device, and a finished download comes back from it, only with the token', async () => {
    const app = await startConsole(join(root, 'home-bridge'));
    const staticDir = join(root, 'static');
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Tether console</title>');
    const bridge = await startBrowserBridge({ handlers: app.handlers, events: app.events, staticDir, staging: app.staging, downloadedFile: (id) => app.transfers.downloadedFile(id) });
    try {
      const token = new URLSearchParams(new URL(bridge.url).hash.slice(1)).get('token')!;
      const page = { origin: bridge.origin, host: new URL(bridge.origin).host };
      const content = Buffer.from('protocol v7\n'.repeat(5000));

      // refused without the token, from another origin, or for another host name
      const id = randomUUID();
      expect((await request(bridge.origin, 'PUT', `/staging/${id}?token=wrong&name=p.xml`, page, content)).status).toBe(403);
      expect((await request(bridge.origin, 'PUT', `/staging/${id}?token=${token}&name=p.xml`, { ...page, origin: 'http://evil.example' }, content)).status).toBe(403);
      expect((await request(bridge.origin, 'PUT', `/staging/${id}?token=${token}&name=p.xml`, { origin: bridge.origin, host: 'evil.example:80' }, content)).status).toBe(421);
      expect(existsSync(join(app.staging.dir, id))).toBe(false);

      const put = await request(bridge.origin, 'PUT', `/staging/${id}?token=${encodeURIComponent(token)}&name=${encodeURIComponent('protocols v7.xml')}`, { ...page, 'content-length': String(content.length) }, content);
      expect(put.status).toBe(201);
      const started = await app.call('transfers.upload', { deviceId: device.id, sessionId: session.id, stagedId: id, devicePath: '/config/' });
      expect(started).toMatchObject({ devicePath: '/config/protocols v7.xml', localPath: null });
      await app.until(started.id, (i) => i.state === 'completed', 'the staged upload');
      expect(readFileSync(join(filesDir, 'config', 'protocols v7.xml')).equals(content)).toBe(true);
      // the staged copy is gone once the device has the file
      await waitFor(() => !existsSync(join(app.staging.dir, id)), { what: 'the staged copy removed' });

      const { items } = await app.call('transfers.download', { deviceId: device.id, sessionId: session.id, devicePaths: ['/config/protocols v7.xml'] });
      const done = await app.until(items[0]!.id, (i) => i.state === 'completed', 'the download');
      expect(done.localPath).toBe(join(root, 'home-bridge', 'downloads', 'protocols v7.xml'));
      expect((await request(bridge.origin, 'GET', `/downloads/${done.id}?token=wrong`, page)).status).toBe(403);
      // a link on another site: the browser names no origin for a GET, but says where it came from
      expect((await request(bridge.origin, 'GET', `/downloads/${done.id}?token=${token}`, { host: page.host, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
      const missing = await request(bridge.origin, 'GET', `/downloads/${randomUUID()}?token=${token}`, page);
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body.toString())).toMatchObject({ error: { code: 'FILE_NOT_FOUND' } });
      const got = await request(bridge.origin, 'GET', `/downloads/${done.id}?token=${token}`, { host: page.host, 'sec-fetch-site': 'same-origin' });
      expect(got.status).toBe(200);
      expect(got.body.equals(content)).toBe(true);
      expect(got.headers['content-disposition']).toBe(`attachment; filename="protocols v7.xml"; filename*=UTF-8''protocols%20v7.xml`);
      expect(got.headers['x-content-type-options']).toBe('nosniff');
    } finally {
      await bridge.close();
    }
  });

  // last: it ends the session the others use
  it('lists device folders in the session; the session’s end stops its transfers here too; then nothing starts without one', async () => {
    const app = await startConsole(join(root, 'home-session'));
    const listing = await app.call('files.list', { deviceId: device.id, sessionId: session.id, path: '/' });
    expect(listing.entries.map((e) => e.path)).toEqual(['/config', '/logs', '/service']);
    const logs = await app.call('files.list', { deviceId: device.id, sessionId: session.id, path: '/logs' });
    expect(logs.entries.length).toBeGreaterThan(0);
    expect(logs.entries.every((e) => e.path.startsWith('/logs/'))).toBe(true);

    const saveDir = join(root, 'downloads-session-end');
    await writeRandomFile(join(filesDir, 'logs', 'long.bin'), 8 * TRANSFER_CHUNK_BYTES, 'session end');
    const { items } = await app.call('transfers.download', { deviceId: device.id, sessionId: session.id, devicePaths: ['/logs/long.bin'], saveDir });
    await app.until(items[0]!.id, (i) => i.bytesDone >= TRANSFER_CHUNK_BYTES, 'the download moving');
    await engineer.client.post(`/api/v1/sessions/${session.id}/end`);
    const stopped = await app.until(items[0]!.id, (i) => i.state === 'canceled', 'the download ended with its session', 30_000);
    expect(stopped.error).not.toBeNull();
    await waitFor(() => readdirSync(saveDir).length === 0, { what: 'the partial file removed' });

    const ended = await app.failure('transfers.download', { deviceId: device.id, sessionId: session.id, devicePaths: ['/logs/system.log'] });
    expect(ended.code).toBe('SESSION_NOT_ACTIVE');
    const diagnoseOnly = await engineer.client.post<SessionView>(`/api/v1/devices/${device.id}/sessions`, { scopes: ['diagnose'], reason: 'INC-7002 checks', durationMinutes: 30 });
    const noScope = await app.failure('transfers.download', { deviceId: device.id, sessionId: diagnoseOnly.body.id, devicePaths: ['/logs/system.log'] });
    expect(noScope.code).toBe('SESSION_REQUIRED');
    await engineer.client.post(`/api/v1/sessions/${diagnoseOnly.body.id}/end`);
  }, 90_000);
});
