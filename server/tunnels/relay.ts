import http2 from 'node:http2';
import https from 'node:https';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { API_ROUTES } from '#contract/http/api-routes';
import { TetherError } from '#contract/errors';
import { TUNNEL_ALPN, TUNNEL_H2_SETTINGS, TUNNEL_LINK_WINDOW } from '#node-lib/tunnel-link';
import { TUNNEL_WIRE, type TunnelPath } from '#contract/tunnels';
import type { TunnelLiveFigures } from './views.ts';


/** Which leg an upgrade request is for. */

/** The link route of a leg as its table declares it, for the refusal of anything else. */
const linkRoute = (leg: TunnelLeg): string => {
  const table = leg === 'agent' ? AGENT_ROUTES : API_ROUTES;
  return `${table.prefix}${table.routes['tunnels.link'].path}`;
};
export type TunnelLeg = 'console' | 'agent';

/** What the relay asks of the tunnel service: whether a leg may join, and what happened. */
export interface RelayHooks {
  /** Admits a leg of a tunnel (ticket and token, or certificate and secret); refusals are audited there and thrown. */
  admit(leg: TunnelLeg, tunnelId: string, request: IncomingMessage): Promise<void>;
  attached(leg: TunnelLeg, tunnelId: string, path: TunnelPath): void;
  /** The agent's leg went away while the tunnel was open; `sessionEnded` when the agent said its session ended (GOAWAY). */
  agentLost(tunnelId: string, sessionEnded: boolean): void;
}

interface LiveTunnel {
  readonly id: string;
  readonly authority: string;
  agent: { session: http2.ClientHttp2Session; socket: Duplex } | undefined;
  readonly consoles: Set<{ session: http2.ServerHttp2Session; socket: Duplex }>;
  bytesToDevice: number;
  bytesFromDevice: number;
  active: number;
  total: number;
  closing: boolean;
}

const LINK_PATHS: Record<TunnelLeg, RegExp> = {
  console: /^\/api\/v1\/tunnels\/([A-Za-z0-9-]{1,64})\/link$/,
  agent: /^\/agent\/v1\/tunnels\/([A-Za-z0-9-]{1,64})\/link$/,
};

/**
 * The tunnel relay of one node: the agent port (mTLS) and the console port, and the 443
 * WebSocket fallback's streams handed in by the API routes. Per tunnel it holds the
 * agent's HTTP/2 session (the relay is the client, on the socket the agent dialed) and
 * the consoles' sessions (the relay is the server); each CONNECT stream from a console
 * becomes one CONNECT stream to the agent, piped both ways under HTTP/2 flow control.
 * Single node: a tunnel's legs must reach the node that opened it.
 */
export class TunnelRelay {
  private readonly tunnels = new Map<string, LiveTunnel>();
  private readonly listeners: https.Server[] = [];

  constructor(private readonly hooks: RelayHooks) {}

  /** Starts both relay ports; resolves to the ports actually bound (0 in the config picks one). */
  async listen(options: { host: string; agentPort: number; consolePort: number; keyPem: string; certPem: string; deviceCaPem: string }): Promise<{ agentPort: number; consolePort: number }> {
    const tls = { key: options.keyPem, cert: options.certPem, minVersion: 'TLSv1.2' as const, ALPNProtocols: [TUNNEL_ALPN] };
    // the certificate is checked by authenticateDeviceConnection, so that a missing or foreign one is audited
    const agent = this.createListener('agent', { ...tls, ca: [options.deviceCaPem], requestCert: true, rejectUnauthorized: false });
    const console = this.createListener('console', tls);
    const bind = (server: https.Server, port: number) =>
      new Promise<number>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: options.host, port, backlog: 1024 }, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    return { agentPort: await bind(agent, options.agentPort), consolePort: await bind(console, options.consolePort) };
  }

  /** A tunnel this node carries, from its opening until it closes. */
  register(tunnelId: string, targetId: string, targetPort: number): void {
    if (this.tunnels.has(tunnelId)) return;
    this.tunnels.set(tunnelId, { id: tunnelId, authority: `${targetId}:${targetPort}`, agent: undefined, consoles: new Set(), bytesToDevice: 0, bytesFromDevice: 0, active: 0, total: 0, closing: false });
  }

  has(tunnelId: string): boolean {
    return this.tunnels.has(tunnelId);
  }

  ids(): string[] {
    return [...this.tunnels.keys()];
  }

  figures(tunnelId: string): TunnelLiveFigures | undefined {
    const t = this.tunnels.get(tunnelId);
    return t && { bytesToDevice: t.bytesToDevice, bytesFromDevice: t.bytesFromDevice, activeConnections: t.active, totalConnections: t.total };
  }

  /** Cuts both legs at once (sockets destroyed, not drained) and forgets the tunnel; returns its final figures. */
  teardown(tunnelId: string): TunnelLiveFigures | undefined {
    const t = this.tunnels.get(tunnelId);
    if (!t) return undefined;
    t.closing = true;
    const figures = this.figures(tunnelId);
    this.tunnels.delete(tunnelId);
    if (t.agent) {
      t.agent.session.destroy();
      t.agent.socket.destroy();
    }
    for (const c of t.consoles) {
      c.session.destroy();
      c.socket.destroy();
    }
    t.consoles.clear();
    return figures;
  }

  /** Stops listening and cuts every tunnel's legs (the service records their end first). */
  async close(): Promise<void> {
    for (const id of this.ids()) this.teardown(id);
    await Promise.all(
      this.listeners.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  /** The 443 fallback: an admitted WebSocket, as a byte stream, joins as a leg. */
  attachFallback(leg: TunnelLeg, tunnelId: string, stream: Duplex): void {
    this.attach(leg, tunnelId, stream, 'fallback');
  }

  private createListener(leg: TunnelLeg, options: https.ServerOptions): https.Server {
    const server = https.createServer(options, (request: IncomingMessage, response: ServerResponse) => {
      const error = new TetherError('VALIDATION_FAILED', `this port carries tunnel links only: GET ${linkRoute(leg)} with Upgrade: ${TUNNEL_WIRE.upgrade}`);
      const body = JSON.stringify(error.toBody());
      response.writeHead(error.httpStatus, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body);
    });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      this.onUpgrade(leg, request, socket as TLSSocket, head).catch((err: unknown) => refuse(socket, err));
    });
    // a peer that fails the handshake or speaks nonsense is dropped; the port stays up
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    server.on('clientError', (_err, socket) => socket.destroy());
    this.listeners.push(server);
    return server;
  }

  private async onUpgrade(leg: TunnelLeg, request: IncomingMessage, socket: TLSSocket, head: Buffer): Promise<void> {
    const match = LINK_PATHS[leg].exec((request.url ?? '').split('?')[0] ?? '');
    if (request.method !== 'GET' || !match) throw new TetherError('NOT_FOUND', `no tunnel link at ${request.method ?? ''} ${request.url ?? ''}`);
    if (request.headers.upgrade?.toLowerCase() !== TUNNEL_WIRE.upgrade) throw new TetherError('VALIDATION_FAILED', `expected Upgrade: ${TUNNEL_WIRE.upgrade}`);
    const tunnelId = match[1]!;
    await this.hooks.admit(leg, tunnelId, request);
    if (socket.destroyed) return;
    // node:http2 takes the socket over natively and must not inherit a write still in flight
    await new Promise<void>((resolve, reject) => socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${TUNNEL_WIRE.upgrade}\r\n\r\n`, (err) => (err ? reject(err) : resolve())));
    if (socket.destroyed) return;
    if (head.length > 0) socket.unshift(head);
    this.attach(leg, tunnelId, socket, 'direct');
  }

  private attach(leg: TunnelLeg, tunnelId: string, socket: Duplex, path: TunnelPath): void {
    const tunnel = this.tunnels.get(tunnelId);
    if (!tunnel || tunnel.closing) {
      socket.destroy();
      return;
    }
    if (leg === 'agent') this.attachAgent(tunnel, socket);
    else this.attachConsole(tunnel, socket);
    this.hooks.attached(leg, tunnelId, path);
  }

  /** The relay is the HTTP/2 client on the socket the agent dialed. A newer leg replaces an older one. */
  private attachAgent(tunnel: LiveTunnel, socket: Duplex): void {
    const previous = tunnel.agent;
    const session = http2.connect('http://tether-agent', { createConnection: () => socket, settings: TUNNEL_H2_SETTINGS });
    session.on('error', () => session.destroy());
    session.on('connect', () => {
      if (!session.destroyed) session.setLocalWindowSize(TUNNEL_LINK_WINDOW);
    });
    tunnel.agent = { session, socket };
    // an agent whose session was revoked at the device says so before it leaves (the server may hear of it later)
    let sessionEnded = false;
    session.on('goaway', (_code: number, _last: number, data?: Buffer) => {
      if (data?.toString() === TUNNEL_WIRE.goawaySessionEnded) sessionEnded = true;
    });
    session.on('close', () => {
      socket.destroy();
      if (tunnel.agent?.session !== session) return;
      tunnel.agent = undefined;
      if (!tunnel.closing) this.hooks.agentLost(tunnel.id, sessionEnded);
    });
    if (previous) {
      previous.session.destroy();
      previous.socket.destroy();
    }
  }

  /** The relay is the HTTP/2 server on the console's socket: each CONNECT stream is one local TCP connection. */
  private attachConsole(tunnel: LiveTunnel, socket: Duplex): void {
    const server = http2.createServer({ settings: TUNNEL_H2_SETTINGS });
    server.on('session', (session) => {
      const entry = { session, socket };
      tunnel.consoles.add(entry);
      session.on('connect', () => {
        if (!session.destroyed) session.setLocalWindowSize(TUNNEL_LINK_WINDOW);
      });
      session.on('error', () => session.destroy());
      session.on('close', () => {
        tunnel.consoles.delete(entry);
        socket.destroy();
      });
    });
    server.on('sessionError', () => socket.destroy());
    server.on('unknownProtocol', () => socket.destroy());
    server.on('stream', (stream, headers) => this.onConsoleStream(tunnel, stream, headers));
    server.emit('connection', socket);
  }

  private onConsoleStream(tunnel: LiveTunnel, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => stream.destroy());
    if (headers[':method'] !== 'CONNECT') {
      answerError(stream, new TetherError('METHOD_NOT_ALLOWED', 'a tunnel link carries CONNECT streams only'));
      return;
    }
    const agent = tunnel.agent;
    if (!agent || agent.session.destroyed || agent.session.closed) {
      answerError(stream, new TetherError('TUNNEL_NOT_OPEN', 'the device has not joined the tunnel (yet)'));
      return;
    }
    let upstream: http2.ClientHttp2Stream;
    try {
      upstream = agent.session.request({ ':method': 'CONNECT', ':authority': tunnel.authority });
    } catch {
      answerError(stream, new TetherError('TUNNEL_NOT_OPEN', 'the device’s leg of the tunnel is closing'));
      return;
    }
    upstream.on('error', () => upstream.destroy());
    // a side that closed cleanly (ended both ways) leaves the other to drain; any other close resets it
    stream.on('close', () => {
      if (!upstream.closed && !endedBothWays(stream)) upstream.close(http2.constants.NGHTTP2_CANCEL);
    });
    upstream.on('close', () => {
      if (!stream.closed && !endedBothWays(upstream)) stream.close(http2.constants.NGHTTP2_CANCEL);
    });
    upstream.on('response', (answer) => {
      const status = Number(answer[':status'] ?? 502);
      if (stream.closed || stream.destroyed) return;
      stream.respond({ ':status': status, ...(answer['content-type'] ? { 'content-type': answer['content-type'] } : {}) });
      upstream.on('data', (chunk: Buffer) => {
        tunnel.bytesFromDevice += chunk.length;
      });
      upstream.pipe(stream);
      if (status !== 200) return;
      tunnel.active += 1;
      tunnel.total += 1;
      stream.once('close', () => {
        tunnel.active -= 1;
      });
      stream.on('data', (chunk: Buffer) => {
        tunnel.bytesToDevice += chunk.length;
      });
      stream.pipe(upstream);
    });
  }
}

function endedBothWays(stream: http2.Http2Stream): boolean {
  return stream.readableEnded && stream.writableFinished;
}

/** An error answer on a CONNECT stream: the status and our JSON body. */
function answerError(stream: http2.ServerHttp2Stream, error: TetherError): void {
  if (stream.closed || stream.destroyed) return;
  stream.respond({ ':status': error.httpStatus, 'content-type': 'application/json' });
  stream.end(JSON.stringify(error.toBody()));
}

/** A refused upgrade: a normal HTTP error answer with our JSON body, then the connection closes. */
function refuse(socket: Duplex, err: unknown): void {
  if (socket.destroyed) return;
  const error = err instanceof TetherError ? err : new TetherError('INTERNAL', 'the relay could not take this link');
  const body = JSON.stringify(error.toBody());
  const status = error.httpStatus;
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}
