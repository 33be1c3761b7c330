import http2 from 'node:http2';
import net from 'node:net';
import { API_ROUTES } from '#contract/http/api-routes';
import { pathOf } from '#contract/http/client';
import type { TunnelTicket } from '#contract/api/tunnels';
import { ErrorBodySchema, TetherError } from '#contract/errors';
import { TUNNEL_H2_SETTINGS, TUNNEL_LINK_WINDOW, dialTunnelLink } from '#node-lib/tunnel-link';
import { TUNNEL_WIRE, type TunnelPath } from '#contract/tunnels';

/**
 * The console's leg as a test drives it: dialTunnelLink with the ticket and token, then an
 * HTTP/2 client on the link; each `connect()` is one CONNECT stream (one TCP connection
 * to the device's target), a Duplex of its bytes.
 */
export interface TestTunnelClient {
  path: TunnelPath;
  session: http2.ClientHttp2Session;
  connect(): Promise<http2.ClientHttp2Stream>;
  close(): void;
}

export async function connectTunnelClient(options: { tunnelId: string; link: TunnelTicket; token: string; ca: string; directTimeoutMs?: number }): Promise<TestTunnelClient> {
  const { stream, path } = await dialTunnelLink({
    relay: options.link.relay,
    path: pathOf(API_ROUTES, 'tunnels.link', { tunnelId: options.tunnelId }),
    headers: { authorization: `Bearer ${options.token}`, [TUNNEL_WIRE.ticketHeader]: options.link.ticket },
    ca: options.ca,
    ...(options.directTimeoutMs !== undefined ? { directTimeoutMs: options.directTimeoutMs } : {}),
  });
  const session = http2.connect('http://tether-relay', { createConnection: () => stream, settings: TUNNEL_H2_SETTINGS });
  session.on('error', () => session.destroy());
  // as the console does: the relay's goodbye cuts every stream at once
  session.once('goaway', () => session.destroy());
  session.on('connect', () => {
    if (!session.destroyed) session.setLocalWindowSize(TUNNEL_LINK_WINDOW);
  });
  return {
    path,
    session,
    connect: () => openConnectStream(session),
    close: () => {
      session.destroy();
      stream.destroy();
    },
  };
}

/** One CONNECT stream; a refusal (non-200) rejects with the TetherError in its body. */
export function openConnectStream(session: http2.ClientHttp2Session): Promise<http2.ClientHttp2Stream> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'CONNECT', ':authority': 'tunnel:0' });
    stream.once('error', reject);
    stream.once('response', (headers) => {
      const status = Number(headers[':status']);
      if (status === 200) {
        stream.off('error', reject);
        resolve(stream);
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const parsed = ErrorBodySchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
        reject(parsed.success ? new TetherError(parsed.data.error.code, parsed.data.error.message) : new Error(`CONNECT answered ${status}`));
      });
    });
  });
}

/** A loopback TCP echo server standing in for a device's service port. */
export async function startEchoServer(): Promise<{ port: number; sockets: Set<net.Socket>; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
