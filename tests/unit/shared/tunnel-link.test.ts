import { once } from 'node:events';
import https from 'node:https';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { loadOrCreatePki, type ServerPki } from '../../../server/pki/pki.ts';
import { TetherError } from '../../../src/shared/errors.ts';
import { TUNNEL_ALPN, dialTunnelLink } from '../../../src/shared/node/tunnel-link.ts';
import { freePort } from '../../helpers/ports.ts';
import { tempDir } from '../../helpers/server.ts';

/**
 * The shared dialer's one decision: the WebSocket fallback is for a relay port that cannot
 * be reached — never for a relay that answered no (its ticket may be spent).
 */
describe('dialTunnelLink', () => {
  const dir = tempDir('tether-link-');
  let pki: ServerPki;
  let wsServer: https.Server;
  let wsPort: number;
  let fallbackDials = 0;

  /** A relay port that answers every upgrade with `status` and our error body. */
  async function refusingRelay(status: number, code: string): Promise<{ port: number; close(): void }> {
    const server = https.createServer({ key: pki.server.keyPem, cert: pki.server.certPem, ALPNProtocols: [TUNNEL_ALPN] });
    server.on('upgrade', (_req, socket) => {
      const body = JSON.stringify(new TetherError(code as never, 'no').toBody());
      socket.end(`HTTP/1.1 ${status} No\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
  }

  const relay = (port: number) => ({ host: '127.0.0.1', port, fallbackUrl: `wss://127.0.0.1:${wsPort}/api/v1/tunnels/t1/link` });
  const dial = (port: number, directTimeoutMs = 1000) => dialTunnelLink({ relay: relay(port), path: '/api/v1/tunnels/t1/link', headers: {}, ca: pki.ca.certPem, directTimeoutMs });

  beforeAll(async () => {
    pki = await loadOrCreatePki(dir, []);
    wsServer = https.createServer({ key: pki.server.keyPem, cert: pki.server.certPem });
    const wss = new WebSocketServer({ server: wsServer });
    wss.on('connection', (socket) => {
      fallbackDials += 1;
      socket.on('message', (data) => socket.send(data));
    });
    wsServer.listen(0, '127.0.0.1');
    await once(wsServer, 'listening');
    wsPort = (wsServer.address() as net.AddressInfo).port;
  });

  afterAll(() => {
    wsServer.closeAllConnections();
    wsServer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the WebSocket fallback when the relay port refuses connections, and carries bytes on it', async () => {
    const before = fallbackDials;
    const link = await dial(await freePort());
    expect(link.path).toBe('fallback');
    expect(fallbackDials).toBe(before + 1);
    link.stream.write('ping');
    const [echo] = (await once(link.stream, 'data')) as [Buffer];
    expect(echo.toString()).toBe('ping');
    link.stream.destroy();
  });

  it('takes the fallback when the relay port accepts but never answers within the direct timeout', async () => {
    const silent = net.createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const link = await dial((silent.address() as net.AddressInfo).port, 300);
      expect(link.path).toBe('fallback');
      link.stream.destroy();
    } finally {
      silent.close();
    }
  });

  it('never falls back after the relay answered a refusal: the relay’s code comes back as is', async () => {
    const refusing = await refusingRelay(401, 'TUNNEL_TICKET_INVALID');
    const before = fallbackDials;
    try {
      await expect(dial(refusing.port)).rejects.toMatchObject({ code: 'TUNNEL_TICKET_INVALID' });
      expect(fallbackDials).toBe(before);
    } finally {
      refusing.close();
    }
  });

  it('reports SERVER_UNREACHABLE naming both paths when neither connects', async () => {
    const closedPort = await freePort();
    const err = await dialTunnelLink({ relay: { host: '127.0.0.1', port: closedPort, fallbackUrl: `wss://127.0.0.1:${closedPort}/x` }, path: '/x', headers: {}, ca: pki.ca.certPem }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TetherError);
    expect(err).toMatchObject({ code: 'SERVER_UNREACHABLE', message: expect.stringContaining('fallback') });
  });

  it('refuses a relay whose certificate is not from the pinned CA, without trying the fallback', async () => {
    const otherDir = tempDir('tether-link-other-');
    const other = await loadOrCreatePki(otherDir, []);
    const before = fallbackDials;
    try {
      await expect(dialTunnelLink({ relay: relay(wsPort), path: '/x', headers: {}, ca: other.ca.certPem })).rejects.toMatchObject({ code: 'CERT_PIN_MISMATCH' });
      expect(fallbackDials).toBe(before);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });
});
