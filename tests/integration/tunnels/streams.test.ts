import { createHash, randomFillSync } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelView } from '#contract/api/tunnels';
import { waitFor } from '../../helpers/wait.ts';
import { connectTunnelClient, type TestTunnelClient } from '../../helpers/tunnel-client.ts';
import { type TunnelWorld, auditOf, localAudit, openSession, openTunnel, pointTarget, startTunnelWorld, tunnelView, waitForTunnel } from './harness.ts';

const MiB = 1024 * 1024;

/** Writes `size` random bytes into `stream` (respecting backpressure), then ends it; resolves to their SHA-256. */
async function writeRandom(stream: Duplex, size: number): Promise<string> {
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(256 * 1024);
  for (let sent = 0; sent < size; ) {
    const piece = Buffer.from(randomFillSync(block).subarray(0, Math.min(block.length, size - sent)));
    hash.update(piece);
    sent += piece.length;
    if (!stream.write(piece)) await drained(stream);
  }
  stream.end();
  return hash.digest('hex');
}

function drained(stream: Duplex): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onClose = () => reject(new Error('stream closed while writing'));
    stream.once('close', onClose);
    stream.once('drain', () => {
      stream.off('close', onClose);
      resolve();
    });
  });
}

/** Reads a stream to its end; resolves to the byte count and SHA-256. */
function readAll(stream: Duplex): Promise<{ size: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      hash.update(chunk);
    });
    stream.once('end', () => resolve({ size, sha256: hash.digest('hex') }));
    stream.once('error', reject);
  });
}

describe('tunnel streams', () => {
  let world: TunnelWorld;
  let client: TestTunnelClient;
  let tunnelId: string;

  beforeAll(async () => {
    world = await startTunnelWorld('Stream Radiology', 'MRX-TN00001');
    const session = await openSession(world.engineer, world.device.id);
    const opened = await openTunnel(world.engineer, session.id);
    tunnelId = opened.tunnel.id;
    client = await connectTunnelClient({ tunnelId, link: opened.link, token: world.engineer.token!, ca: world.ts.ca });
    await waitForTunnel(world.engineer, tunnelId, 'open');
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await world?.close();
  });

  it('echoes 100 MiB of random data through the tunnel unchanged', async () => {
    const stream = await client.connect();
    const [sent, received] = await Promise.all([writeRandom(stream, 100 * MiB), readAll(stream)]);
    expect(received.size).toBe(100 * MiB);
    expect(received.sha256).toBe(sent);
    expect(client.path).toBe('direct');
    const view = await waitFor(async () => {
      const v = await tunnelView(world.engineer, tunnelId);
      return v.bytesFromDevice >= 100 * MiB ? v : undefined;
    });
    expect(view.bytesToDevice).toBe(100 * MiB);
    expect(view.consolePath).toBe('direct');
    expect(view.agentPath).toBe('direct');
  }, 120_000);

  it('keeps 19 parallel streams moving while a 20th stream’s reader has stopped reading', async () => {
    const stalled = await client.connect();
    // the stalled stream fills its window (and the echo server's buffers) and then sits there
    const stalledWrite = writeRandom(stalled, 32 * MiB).catch(() => undefined);
    const others = await Promise.all(Array.from({ length: 19 }, () => client.connect()));
    const results = await Promise.all(others.map(async (s) => {
      const [sent, received] = await Promise.all([writeRandom(s, 2 * MiB), readAll(s)]);
      return { sent, received };
    }));
    for (const { sent, received } of results) {
      expect(received.size).toBe(2 * MiB);
      expect(received.sha256).toBe(sent);
    }
    // meanwhile the stalled one is still open, with echoed bytes waiting unread in its buffer
    expect(stalled.destroyed).toBe(false);
    expect(stalled.readableLength).toBeGreaterThan(0);
    stalled.destroy();
    await stalledWrite;
    const view = await tunnelView(world.engineer, tunnelId);
    expect(view.totalConnections).toBeGreaterThanOrEqual(21);
  }, 120_000);

  it('answers TUNNEL_UNREACHABLE for a connection when nothing listens on the device’s port', async () => {
    pointTarget(world.member, 'service-web', { host: '127.0.0.1', port: 1 });
    try {
      await expect(client.connect()).rejects.toMatchObject({ code: 'TUNNEL_UNREACHABLE' });
    } finally {
      pointTarget(world.member, 'service-web', { host: '127.0.0.1', port: world.echo.port });
    }
    // the tunnel itself stays open for the next connection
    const stream = await client.connect();
    stream.end(Buffer.from('ping'));
    expect((await readAll(stream)).size).toBe(4);
  }, 30_000);

  it('closes on request: both legs cut, the close audited with paths, bytes and duration', async () => {
    const res = await world.engineer.post<{ state: string; endCause: string }>(`/api/v1/tunnels/${tunnelId}/close`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'closed', endCause: 'USER_CLOSED' });
    await waitFor(() => client.session.closed || client.session.destroyed, { what: 'console leg cut' });
    const entry = (await auditOf(world.ts, 'tunnel.close')).find((e) => e.detail?.tunnelId === tunnelId);
    expect(entry?.detail).toMatchObject({ endCause: 'USER_CLOSED', consolePath: 'direct', agentPath: 'direct', targetId: 'service-web' });
    expect(Number(entry?.detail?.bytesToDevice)).toBeGreaterThanOrEqual(100 * MiB);
    expect(Number(entry?.detail?.bytesFromDevice)).toBeGreaterThanOrEqual(100 * MiB);
    expect(typeof entry?.detail?.durationMs).toBe('number');
    await waitFor(async () => (await localAudit(world.member)).some((e) => e.action === 'tunnel.close' && e.detail.tunnelId === tunnelId), { what: 'agent audit' });
    // each leg's arrival was audited with its path
    const links = (await auditOf(world.ts, 'tunnel.link')).filter((e) => e.detail?.tunnelId === tunnelId);
    expect(links.map((e) => `${String(e.detail?.leg)}:${String(e.detail?.path)}`).sort()).toEqual(['agent:direct', 'console:direct']);
    // and it is listed, closed, for its opener and on its device
    const mine = (await world.engineer.get<{ items: TunnelView[] }>('/api/v1/tunnels')).body.items;
    expect(mine.find((t) => t.id === tunnelId)).toMatchObject({ state: 'closed', endCause: 'USER_CLOSED', activeConnections: 0 });
    const onDevice = (await world.engineer.get<{ items: TunnelView[] }>(`/api/v1/devices/${world.device.id}/tunnels?state=closed`)).body.items;
    expect(onDevice.map((t) => t.id)).toContain(tunnelId);
  }, 30_000);
});
