import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { API_ROUTES } from '#contract/http/api-routes';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { pathOf } from '#contract/http/client';
import type { OpenTunnelResponse, TunnelTicket } from '#contract/api/tunnels';
import { TUNNEL_ALPN, dialTunnelLink } from '#node-lib/tunnel-link';
import { TUNNEL_WIRE } from '#contract/tunnels';
import { connectTunnelClient } from '../../helpers/tunnel-client.ts';
import { waitFor } from '../../helpers/wait.ts';
import { type TunnelWorld, agentRelay, openSession, openTunnel, startTunnelWorld, waitForTunnel } from './harness.ts';

interface RawAnswer {
  status: number;
  code: string | undefined;
}

/** A hand-made request to a relay port: whatever it is, the answer is a status and our JSON error body. */
function rawRequest(world: TunnelWorld, port: number, path: string, headers: Record<string, string>): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, method: 'GET', headers, ca: world.ts.ca, agent: false });
    const finish = (status: number, body: string) => resolve({ status, code: (JSON.parse(body || '{}') as { error?: { code: string } }).error?.code });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => finish(res.statusCode ?? 0, body));
    });
    req.on('upgrade', (res) => {
      res.socket.destroy();
      finish(res.statusCode ?? 0, '');
    });
    req.on('error', reject);
    req.end();
  });
}

/** Bytes that are not HTTP/2 after a real upgrade; resolves when the relay has closed the connection. */
function garbageAfterUpgrade(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    stream.on('error', () => undefined);
    stream.on('close', () => resolve());
    stream.resume();
    stream.write(Buffer.from('GET / HTTP/1.1\r\nHost: nonsense\r\n\r\n' + 'x'.repeat(4096)));
  });
}

/** Malformed, unknown and hostile input on the relay: a clear error or a closed connection, and the server carries on. */
describe('tunnel relay under bad input', () => {
  let world: TunnelWorld;
  let opened: OpenTunnelResponse;
  let consolePort: number;
  let agentPort: number;

  const stillServing = async () => {
    expect((await world.ts.anonymous.get<{ status: string }>('/api/v1/health')).body.status).toBe('ok');
    const ticket = (await world.engineer.post<TunnelTicket>(`/api/v1/tunnels/${opened.tunnel.id}/tickets`)).body;
    const client = await connectTunnelClient({ tunnelId: opened.tunnel.id, link: ticket, token: world.engineer.token!, ca: world.ts.ca });
    const stream = await client.connect();
    const echoed = new Promise<string>((resolve) => {
      let text = '';
      stream.on('data', (c: Buffer) => (text += c.toString()));
      stream.on('end', () => resolve(text));
    });
    stream.end('still here');
    expect(await echoed).toBe('still here');
    client.close();
  };

  beforeAll(async () => {
    world = await startTunnelWorld('Bad Input Radiology', 'MRX-BI00001');
    ({ agentPort, consolePort } = world.ts.server.services.tunnels.relayPorts);
    const session = await openSession(world.engineer, world.device.id);
    opened = await openTunnel(world.engineer, session.id);
    await waitForTunnel(world.engineer, opened.tunnel.id, 'open');
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  it('answers malformed upgrade requests with a clear error', async () => {
    const auth = { authorization: `Bearer ${world.engineer.token!}` };
    // no Upgrade at all
    expect(await rawRequest(world, consolePort, pathOf(API_ROUTES, 'tunnels.link', { tunnelId: opened.tunnel.id }), auth)).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    // another protocol
    expect(await rawRequest(world, consolePort, pathOf(API_ROUTES, 'tunnels.link', { tunnelId: opened.tunnel.id }), { ...auth, connection: 'Upgrade', upgrade: 'h2c' })).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    // not a link path; the agent path on the console port
    expect(await rawRequest(world, consolePort, '/api/v1/tunnels/../../etc/link', { ...auth, connection: 'Upgrade', upgrade: TUNNEL_WIRE.upgrade })).toEqual({ status: 404, code: 'NOT_FOUND' });
    expect(await rawRequest(world, consolePort, pathOf(AGENT_ROUTES, 'tunnels.link', { tunnelId: opened.tunnel.id }), { ...auth, connection: 'Upgrade', upgrade: TUNNEL_WIRE.upgrade })).toEqual({ status: 404, code: 'NOT_FOUND' });
    // a WebSocket without the tunnel subprotocol
    const ws = new WebSocket(`wss://${new URL(world.ts.url).host}${pathOf(API_ROUTES, 'tunnels.link', { tunnelId: opened.tunnel.id })}`, { ca: world.ts.ca, headers: auth });
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => resolve(0));
    });
    expect(status).toBe(400);
    await stillServing();
  });

  it('answers an unknown tunnel id with NOT_FOUND on both legs and both paths', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const link = { ...opened.link, relay: { ...opened.link.relay, fallbackUrl: opened.link.relay.fallbackUrl.replace(opened.tunnel.id, unknown) } };
    await expect(connectTunnelClient({ tunnelId: unknown, link, token: world.engineer.token!, ca: world.ts.ca })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const own = world.member.agent.credentials;
    await expect(
      dialTunnelLink({ relay: agentRelay(world, unknown), path: pathOf(AGENT_ROUTES, 'tunnels.link', { tunnelId: unknown }), headers: { [TUNNEL_WIRE.deviceSecretHeader]: own.deviceSecret }, ca: world.ts.ca, cert: own.certificatePem, key: own.privateKeyPem }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await stillServing();
  });

  it('closes a console leg that sends garbage instead of HTTP/2 after the upgrade', async () => {
    const ticket = (await world.engineer.post<TunnelTicket>(`/api/v1/tunnels/${opened.tunnel.id}/tickets`)).body;
    const { stream } = await dialTunnelLink({
      relay: ticket.relay,
      path: pathOf(API_ROUTES, 'tunnels.link', { tunnelId: opened.tunnel.id }),
      headers: { authorization: `Bearer ${world.engineer.token!}`, [TUNNEL_WIRE.ticketHeader]: ticket.ticket },
      ca: world.ts.ca,
    });
    await garbageAfterUpgrade(stream);
    expect((await world.engineer.get<{ state: string }>(`/api/v1/tunnels/${opened.tunnel.id}`)).body.state).toBe('open');
    await stillServing();
  });

  it('drops TLS garbage and plain-text bytes on both relay ports', async () => {
    for (const port of [consolePort, agentPort]) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.from('\x16\x03\x01\x00\x05hello, not a TLS record'.repeat(20))));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
        socket.resume();
      });
      await new Promise<void>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: world.ts.ca, servername: 'localhost', ALPNProtocols: [TUNNEL_ALPN] }, () => socket.write('\x00\x01\x02 PRI * garbage\r\n\r\n'));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
        socket.resume();
      });
    }
    await stillServing();
  });

  it('ends the tunnel (AGENT_LOST) when its agent leg speaks garbage, and the server carries on', async () => {
    const own = world.member.agent.credentials;
    // a second agent leg replaces the real one, then breaks the protocol
    const { stream } = await dialTunnelLink({
      relay: agentRelay(world, opened.tunnel.id),
      path: pathOf(AGENT_ROUTES, 'tunnels.link', { tunnelId: opened.tunnel.id }),
      headers: { [TUNNEL_WIRE.deviceSecretHeader]: own.deviceSecret },
      ca: world.ts.ca,
      cert: own.certificatePem,
      key: own.privateKeyPem,
    });
    await garbageAfterUpgrade(stream);
    const closed = await waitForTunnel(world.engineer, opened.tunnel.id, 'closed');
    expect(closed.endCause).toBe('AGENT_LOST');
    expect((await world.ts.anonymous.get<{ status: string }>('/api/v1/health')).body.status).toBe('ok');
    // a fresh tunnel on the same device works
    const session = (await world.engineer.get<{ items: { id: string; state: string }[] }>(`/api/v1/devices/${world.device.id}/sessions`)).body.items.find((s) => s.state === 'active')!;
    opened = await openTunnel(world.engineer, session.id);
    await waitFor(async () => (await world.engineer.get<{ state: string }>(`/api/v1/tunnels/${opened.tunnel.id}`)).body.state === 'open', { what: 'fresh tunnel open' });
    await stillServing();
  });
});
