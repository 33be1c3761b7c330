import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

/** How the test proxy answers CONNECT. */
export type ProxyMode = 'open' | 'demand-auth' | 'refuse';

/**
 * A real HTTP CONNECT proxy on loopback, as a hospital's outbound proxy: tunnels (to
 * loopback only), wants basic credentials `user:pass` (407 otherwise), or refuses every
 * CONNECT (403). Switch `mode` at any time; `targets` lists every CONNECT received.
 */
export interface ConnectProxy {
  url: string;
  mode: ProxyMode;
  /** `host:port` of every CONNECT, answered or not. */
  readonly targets: string[];
  close(): Promise<void>;
}

export const PROXY_USER = { username: 'user', password: 'pass' } as const;

export async function startConnectProxy(mode: ProxyMode = 'open'): Promise<ConnectProxy> {
  const expected = `Basic ${Buffer.from(`${PROXY_USER.username}:${PROXY_USER.password}`).toString('base64')}`;
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const server = http.createServer((_req, res) => {
    res.writeHead(405, { connection: 'close' });
    res.end();
  });
  server.on('connection', track);
  const proxy: ConnectProxy = {
    url: '',
    mode,
    targets: [],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
    proxy.targets.push(req.url ?? '');
    const reply = (status: string, extra = '') => client.end(`HTTP/1.1 ${status}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
    if (proxy.mode === 'refuse') return reply('403 Forbidden');
    if (proxy.mode === 'demand-auth' && req.headers['proxy-authorization'] !== expected) {
      return reply('407 Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="test"\r\n');
    }
    const target = new URL(`http://${req.url ?? ''}`);
    // this proxy only ever reaches loopback
    if (!net.isIPv4(target.hostname) || !target.hostname.startsWith('127.')) return reply('403 Forbidden');
    const upstream = net.connect(Number(target.port), target.hostname, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
