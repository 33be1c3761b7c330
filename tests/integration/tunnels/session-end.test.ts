import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTunnelClient } from '../../helpers/tunnel-client.ts';
import { waitFor } from '../../helpers/wait.ts';
import { type TunnelWorld, auditOf, endSession, localAudit, openSession, openTunnel, startTunnelWorld, tunnelView, waitForTunnel } from './harness.ts';

/** A tunnel lives inside its session: ending the session cuts both legs at once, mid-traffic. */
describe('tunnel and session end', () => {
  let world: TunnelWorld;

  beforeAll(async () => {
    world = await startTunnelWorld('Session End Radiology', 'MRX-SE00001', { tunnels: { setupTimeoutMs: 2000 } }, ['MRX-SE00002']);
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  it('closes a tunnel carrying live traffic within a second of the session’s end, with SESSION_ENDED', async () => {
    const session = await openSession(world.engineer, world.device.id);
    const opened = await openTunnel(world.engineer, session.id);
    const client = await connectTunnelClient({ tunnelId: opened.tunnel.id, link: opened.link, token: world.engineer.token!, ca: world.ts.ca });
    await waitForTunnel(world.engineer, opened.tunnel.id, 'open');
    const stream = await client.connect();
    // live traffic: the stream echoes a steady flow until it is cut
    let echoed = 0;
    stream.on('data', (chunk: Buffer) => {
      echoed += chunk.length;
    });
    stream.on('error', () => undefined);
    const block = Buffer.alloc(16 * 1024, 7);
    const pump = setInterval(() => {
      if (!stream.destroyed && !stream.writableEnded) stream.write(block);
    }, 5);
    await waitFor(() => echoed > 512 * 1024, { what: 'traffic flowing' });
    expect(world.echo.sockets.size).toBe(1);

    const closed = new Promise<number>((resolve) => stream.once('close', () => resolve(performance.now())));
    await endSession(world.engineer, session.id);
    const returned = performance.now();
    const elapsed = (await closed) - returned;
    clearInterval(pump);
    // the deadline of the issue: the local stream is gone within a second of the end call's return
    expect(elapsed).toBeLessThan(1000);
    expect(client.session.destroyed || client.session.closed).toBe(true);

    const view = await tunnelView(world.engineer, opened.tunnel.id);
    expect(view).toMatchObject({ state: 'closed', endCause: 'SESSION_ENDED', activeConnections: 0 });
    expect(view.bytesFromDevice).toBeGreaterThan(512 * 1024);
    // the device's end too: its connection to the service port is closed, its command canceled and audited
    await waitFor(() => world.echo.sockets.size === 0, { what: 'target connection closed on the device' });
    await waitFor(async () => (await localAudit(world.member)).some((e) => e.action === 'tunnel.close' && e.detail.tunnelId === opened.tunnel.id), { what: 'agent audit' });
    const entry = (await auditOf(world.ts, 'tunnel.close')).find((e) => e.detail?.tunnelId === opened.tunnel.id);
    expect(entry?.detail).toMatchObject({ endCause: 'SESSION_ENDED', consolePath: 'direct', agentPath: 'direct', connections: 1 });
  }, 30_000);

  it('closes a tunnel when the customer revokes consent at the device, both legs at once', async () => {
    const session = await openSession(world.engineer, world.device.id);
    const opened = await openTunnel(world.engineer, session.id);
    const client = await connectTunnelClient({ tunnelId: opened.tunnel.id, link: opened.link, token: world.engineer.token!, ca: world.ts.ca });
    await waitForTunnel(world.engineer, opened.tunnel.id, 'open');
    const stream = await client.connect();
    stream.on('error', () => undefined);
    stream.write(Buffer.alloc(1024, 1));
    await waitFor(() => world.echo.sockets.size === 1, { what: 'the device connected to its service' });
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    // the operator at the device withdraws consent: the revocation rides the agent's next request
    world.fleet.revokeSession(world.device.serial, session.id, 'Biomed on duty');
    await closed;
    const view = await waitForTunnel(world.engineer, opened.tunnel.id, 'closed');
    expect(view.endCause).toBe('SESSION_ENDED');
    await waitFor(() => world.echo.sockets.size === 0, { what: 'target connection closed on the device' });
    const ended = (await world.engineer.get<{ endCause: string }>(`/api/v1/sessions/${session.id}`)).body;
    expect(ended.endCause).toBe('CUSTOMER_REVOKED');
  }, 30_000);

  it('closes a tunnel whose device never joins by the setup deadline (SETUP_TIMEOUT) and cancels its command', async () => {
    const device = world.others[0]!;
    const session = await openSession(world.engineer, device.id);
    // the agent goes away without a word: nobody will dial the relay for this tunnel
    await world.fleet.get('MRX-SE00002').agent.stop({ goodbye: false });
    const opened = await openTunnel(world.engineer, session.id);
    const closed = await waitForTunnel(world.engineer, opened.tunnel.id, 'closed');
    expect(closed.endCause).toBe('SETUP_TIMEOUT');
    expect(closed.agentPath).toBeNull();
    const commands = (await world.engineer.get<{ items: { name: string; state: string }[] }>(`/api/v1/devices/${device.id}/commands`)).body.items;
    expect(commands.find((c) => c.name === 'open-tunnel')?.state).toBe('canceled');
    const entry = (await auditOf(world.ts, 'tunnel.close')).find((e) => e.detail?.tunnelId === opened.tunnel.id);
    expect(entry?.detail).toMatchObject({ endCause: 'SETUP_TIMEOUT', bytesToDevice: 0, bytesFromDevice: 0 });
  }, 30_000);
});
