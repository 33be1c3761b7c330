import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/ports.ts';
import { connectTunnelClient } from '../../helpers/tunnel-client.ts';
import { type TunnelWorld, auditOf, localAudit, openSession, openTunnel, startTunnelWorld, waitForTunnel } from './harness.ts';

/** A site that blocks the relay ports: both legs take the WebSocket on the API port, end to end. */
describe('tunnel 443 fallback', () => {
  let world: TunnelWorld;

  beforeAll(async () => {
    // the relay ports stay closed; clients are told a loopback port where nothing listens
    world = await startTunnelWorld('Fallback Radiology', 'MRX-FB00001', { tunnels: { direct: false, unreachablePort: await freePort() } });
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  it('carries a tunnel over WebSockets on both legs when the relay ports cannot be reached', async () => {
    const session = await openSession(world.engineer, world.device.id);
    const opened = await openTunnel(world.engineer, session.id);
    expect(opened.link.relay.fallbackUrl).toBe(`wss://${new URL(world.ts.url).host}/api/v1/tunnels/${opened.tunnel.id}/link`);
    const client = await connectTunnelClient({ tunnelId: opened.tunnel.id, link: opened.link, token: world.engineer.token!, ca: world.ts.ca });
    expect(client.path).toBe('fallback');
    const view = await waitForTunnel(world.engineer, opened.tunnel.id, 'open');
    expect(view.agentPath).toBe('fallback');

    // several MiB both ways, in writes larger than a WebSocket message may be
    const payload = randomBytes(8 * 1024 * 1024);
    const stream = await client.connect();
    const echoed = new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.once('end', () => resolve(Buffer.concat(chunks)));
      stream.once('error', reject);
    });
    stream.end(payload);
    const back = await echoed;
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));

    const after = await waitForTunnel(world.engineer, opened.tunnel.id, 'open');
    expect(after).toMatchObject({ consolePath: 'fallback', agentPath: 'fallback' });
    expect((await localAudit(world.member)).find((e) => e.action === 'tunnel.open' && e.detail.tunnelId === opened.tunnel.id)?.detail.path).toBe('fallback');

    await world.engineer.post(`/api/v1/tunnels/${opened.tunnel.id}/close`);
    const entry = (await auditOf(world.ts, 'tunnel.close')).find((e) => e.detail?.tunnelId === opened.tunnel.id);
    expect(entry?.detail).toMatchObject({ consolePath: 'fallback', agentPath: 'fallback', endCause: 'USER_CLOSED', bytesToDevice: payload.length, bytesFromDevice: payload.length });
  }, 60_000);
});
