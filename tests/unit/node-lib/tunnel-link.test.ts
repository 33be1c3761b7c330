import { once } from 'node:events';
import https from 'node:https';
import net from 'node:net';
import { rmSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { loadOrCreatePki, type ServerPki } from '../../../server/pki/pki.ts';
import { TetherError } from '#contract/errors';
import { TUNNEL_ALPN, type TunnelLinkAgent, dialTunnelLink } from '#node-lib/tunnel-link';
import { type ConnectProxy, PROXY_USER, startConnectProxy } from '../../helpers/connect-proxy.ts';
import { freePort } from '../../helpers/ports.ts';
import { tempDir } from '../../helpers/server.ts';

/**
 * The shared dialer's one decision: the WebSocket fallback is for a relay port that cannot
 * be reached — never for a relay that answered no (its ticket may be spent). And how it
 * connects: through the caller's proxy (ALPN intact inside the CONNECT tunnel, the proxy's
 * refusal named as such) or directly with the caller's name lookup.
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

  /** A relay port that switches every upgrade to the tunnel and echoes; `alpn` lists what each TLS session negotiated. */
  async function acceptingRelay(): Promise<{ port: number; alpn: (string | false | null)[]; close(): void }> {
    const alpn: (string | false | null)[] = [];
    const server = https.createServer({ key: pki.server.keyPem, cert: pki.server.certPem, ALPNProtocols: [TUNNEL_ALPN] });
    server.on('upgrade', (_req, socket) => {
      alpn.push((socket as TLSSocket).alpnProtocol);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: tether-tunnel\r\nConnection: Upgrade\r\n\r\n');
      socket.pipe(socket);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return {
      port: (server.address() as net.AddressInfo).port,
      alpn,
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    };
  }

  /** An agent through `proxy` that names it, as the console's and the agent's do. */
  const through = (proxy: ConnectProxy, about?: TunnelLinkAgent['proxyAbout']): TunnelLinkAgent =>
    Object.assign(new HttpsProxyAgent(proxy.url) as unknown as https.Agent, { proxyHost: new URL(proxy.url).host, proxyAbout: about });

  beforeAll(async () => {
    pki = await loadOrCreatePki(dir, ['relay.example.test']);
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

  it('dials the relay port through the proxy the caller chooses per URL, with the tunnel ALPN inside the CONNECT', async () => {
    const accepting = await acceptingRelay();
    const proxy = await startConnectProxy('open');
    const asked: string[] = [];
    try {
      const link = await dialTunnelLink({
        relay: relay(accepting.port),
        path: '/api/v1/tunnels/t1/link',
        headers: {},
        ca: pki.ca.certPem,
        agentFor: (url) => {
          asked.push(url);
          return Promise.resolve(through(proxy));
        },
      });
      expect(link.path).toBe('direct');
      expect(asked).toEqual([`https://127.0.0.1:${accepting.port}/`]);
      expect(proxy.targets).toEqual([`127.0.0.1:${accepting.port}`]);
      expect(accepting.alpn).toEqual([TUNNEL_ALPN]);
      expect((link.stream as TLSSocket).alpnProtocol).toBe(TUNNEL_ALPN);
      link.stream.write('ping');
      const [echo] = (await once(link.stream, 'data')) as [Buffer];
      expect(echo.toString()).toBe('ping');
      link.stream.destroy();
    } finally {
      accepting.close();
      await proxy.close();
    }
  });

  it('takes the fallback through the same proxy when the proxy refuses the relay port', async () => {
    const accepting = await acceptingRelay();
    const proxy = await startConnectProxy('open');
    proxy.onlyPorts = [wsPort];
    const asked: string[] = [];
    const before = fallbackDials;
    try {
      const link = await dialTunnelLink({
        relay: relay(accepting.port),
        path: '/api/v1/tunnels/t1/link',
        headers: {},
        ca: pki.ca.certPem,
        agentFor: (url) => {
          asked.push(url);
          return Promise.resolve(through(proxy));
        },
      });
      expect(link.path).toBe('fallback');
      expect(asked).toEqual([`https://127.0.0.1:${accepting.port}/`, `wss://127.0.0.1:${wsPort}/api/v1/tunnels/t1/link`]);
      expect(proxy.targets).toEqual([`127.0.0.1:${accepting.port}`, `127.0.0.1:${wsPort}`]);
      expect(accepting.alpn).toEqual([]);
      expect(fallbackDials).toBe(before + 1);
      link.stream.destroy();
    } finally {
      accepting.close();
      await proxy.close();
    }
  });

  it('turns a proxy’s 407 into PROXY_AUTH_REQUIRED naming the proxy and saying where to sign in', async () => {
    const accepting = await acceptingRelay();
    const proxy = await startConnectProxy('demand-auth');
    const advice = `add a sign-in for ${new URL(proxy.url).host}`;
    try {
      const err = await dialTunnelLink({
        relay: relay(accepting.port),
        path: '/x',
        headers: {},
        ca: pki.ca.certPem,
        agentFor: () => Promise.resolve(through(proxy, { chosenBy: 'the PAC script', advice })),
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TetherError);
      expect(err).toMatchObject({ code: 'PROXY_AUTH_REQUIRED', details: { proxy: new URL(proxy.url).host } });
      expect((err as TetherError).message).toContain(`the proxy ${new URL(proxy.url).host} (chosen by the PAC script) requires (other) credentials (407) — ${advice}`);
      expect(accepting.alpn).toEqual([]);

      // with its credentials the same proxy lets the link through
      const signedIn = new URL(proxy.url);
      signedIn.username = PROXY_USER.username;
      signedIn.password = PROXY_USER.password;
      const link = await dialTunnelLink({
        relay: relay(accepting.port),
        path: '/x',
        headers: {},
        ca: pki.ca.certPem,
        agentFor: () => Promise.resolve(new HttpsProxyAgent(signedIn) as unknown as https.Agent),
      });
      expect(link.path).toBe('direct');
      link.stream.destroy();
    } finally {
      accepting.close();
      await proxy.close();
    }
  });

  it('turns a proxy’s 403 on both ports into PROXY_REFUSED naming the proxy', async () => {
    const proxy = await startConnectProxy('refuse');
    try {
      const err = await dialTunnelLink({ relay: relay(await freePort()), path: '/x', headers: {}, ca: pki.ca.certPem, agentFor: () => Promise.resolve(through(proxy)) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'PROXY_REFUSED', message: expect.stringContaining(`the proxy ${new URL(proxy.url).host} refused to connect to 127.0.0.1:${wsPort} (403)`) });
      expect(proxy.targets).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });

  it('resolves the relay’s name with the caller’s lookup when no proxy is chosen (an agent’s host map)', async () => {
    const accepting = await acceptingRelay();
    const looked: string[] = [];
    try {
      const link = await dialTunnelLink({
        relay: { host: 'relay.example.test', port: accepting.port, fallbackUrl: `wss://relay.example.test:${wsPort}/x` },
        path: '/x',
        headers: {},
        ca: pki.ca.certPem,
        agentFor: () => Promise.resolve(undefined),
        lookup: (hostname, options, callback) => {
          looked.push(hostname);
          if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
          else callback(null, '127.0.0.1', 4);
        },
      });
      expect(link.path).toBe('direct');
      expect(looked).toContain('relay.example.test');
      expect(accepting.alpn).toEqual([TUNNEL_ALPN]);
      link.stream.destroy();
    } finally {
      accepting.close();
    }
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
