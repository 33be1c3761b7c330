import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import tls, { type SecureContext } from 'node:tls';
import { type CertifiedKey, issueServerCertificate } from '../../server/pki/certificates.ts';

/** How the test proxy answers CONNECT. */
export type ProxyMode = 'open' | 'demand-auth' | 'refuse' | 'intercept';

export interface ConnectProxyOptions {
  /** The inspection CA that `intercept` mode signs its stand-in certificates with. */
  interceptCa?: CertifiedKey;
  /**
   * When the target behind the proxy cannot be reached: drop the client (`close`, the
   * default) or answer `502 Bad Gateway` as most real proxies do.
   */
  targetFailure?: 'close' | 'bad-gateway';
}

/**
 * A real HTTP CONNECT proxy on loopback, as a hospital's outbound proxy: tunnels (to
 * loopback only), wants basic credentials `user:pass` (407 otherwise), refuses every
 * CONNECT (403), or tunnels and inspects TLS (`intercept`: terminates it with a
 * certificate for the requested name from `interceptCa` and re-encrypts to the target).
 * Switch `mode` (and `onlyPorts`) at any time; `targets` lists every CONNECT received.
 */
export interface ConnectProxy {
  url: string;
  mode: ProxyMode;
  /** When set, CONNECT to any other port is refused (403), as by proxies that allow only 443. */
  onlyPorts: number[] | undefined;
  /** `host:port` of every CONNECT, answered or not. */
  readonly targets: string[];
  /** Drops every established tunnel to `port` (a network hiccup on that path); answers how many. */
  cutTunnels(port: number): number;
  close(): Promise<void>;
}

export const PROXY_USER = { username: 'user', password: 'pass' } as const;

export async function startConnectProxy(mode: ProxyMode = 'open', options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  // intercept mode wraps TLS around a tunnel's upstream socket
  const tlsOver = new WeakMap<Socket, Socket>();
  const teardown = (socket: Socket): void => {
    // destroying a socket under a live TLS wrap crashes Node 20, so the wrap goes first
    tlsOver.get(socket)?.destroy();
    socket.destroy();
  };
  const inspector = options.interceptCa ? await tlsInspector(options.interceptCa, tlsOver) : undefined;
  const expected = `Basic ${Buffer.from(`${PROXY_USER.username}:${PROXY_USER.password}`).toString('base64')}`;
  const sockets = new Set<Socket>();
  /** Established tunnels: the client's socket, the upstream one and the CONNECT port. */
  const tunnels = new Set<{ client: Socket; upstream: Socket; port: number }>();
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
    onlyPorts: undefined,
    targets: [],
    cutTunnels: (port) => {
      const cut = [...tunnels].filter((t) => t.port === port);
      for (const t of cut) {
        teardown(t.upstream);
        t.client.destroy();
      }
      return cut.length;
    },
    close: async () => {
      for (const socket of sockets) teardown(socket);
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
    if (proxy.onlyPorts && !proxy.onlyPorts.includes(Number(target.port))) return reply('403 Forbidden');
    // this proxy only ever reaches loopback
    if (!net.isIPv4(target.hostname) || !target.hostname.startsWith('127.')) return reply('403 Forbidden');
    if (proxy.mode === 'intercept' && !inspector) return reply('500 No Inspection CA');
    let established = false;
    const upstream = net.connect(Number(target.port), target.hostname, () => {
      established = true;
      const tunnel = { client, upstream, port: Number(target.port) };
      tunnels.add(tunnel);
      client.once('close', () => tunnels.delete(tunnel));
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (proxy.mode === 'intercept' && inspector) return inspector(client, upstream, head);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => (!established && options.targetFailure === 'bad-gateway' ? reply('502 Bad Gateway') : client.destroy()));
    client.on('error', () => teardown(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

/**
 * TLS inspection as a hospital's proxy does it: a tunnel whose first bytes are a TLS
 * ClientHello is answered with a certificate for the requested name signed by the
 * inspection CA, and re-encrypted to the real target; anything else passes untouched.
 */
async function tlsInspector(ca: CertifiedKey, tlsOver: WeakMap<Socket, Socket>): Promise<(client: Socket, upstream: Socket, head: Buffer) => void> {
  const contexts = new Map<string, Promise<SecureContext>>();
  const contextFor = (name: string): Promise<SecureContext> => {
    let context = contexts.get(name);
    if (!context) {
      context = issueServerCertificate(ca, [name]).then((leaf) => tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem }));
      contexts.set(name, context);
    }
    return context;
  };
  const fallback = await contextFor('localhost');
  return (client, upstream, head) => {
    const inspect = (first: Buffer): void => {
      if (first[0] !== 0x16) {
        upstream.write(first);
        upstream.pipe(client);
        client.pipe(upstream);
        return;
      }
      // the first chunk was already read off the socket, so TLS runs over a stream that replays it
      const inbound = new PassThrough();
      inbound.write(first);
      client.pipe(inbound);
      const terminated = new tls.TLSSocket(Duplex.from({ readable: inbound, writable: client }), {
        isServer: true,
        secureContext: fallback,
        SNICallback: (name, done) => void contextFor(name).then((context) => done(null, context), done),
      });
      terminated.on('error', () => client.destroy());
      terminated.once('secure', () => {
        const servername = (terminated as tls.TLSSocket & { servername?: string | false }).servername;
        const onward = tls.connect({ socket: upstream, rejectUnauthorized: false, ...(servername ? { servername } : {}) });
        tlsOver.set(upstream, onward);
        onward.on('error', () => terminated.destroy());
        onward.pipe(terminated);
        terminated.pipe(onward);
      });
    };
    if (head.length) inspect(head);
    else client.once('data', inspect);
  };
}
