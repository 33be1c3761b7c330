import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { z } from 'zod';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { pathOf } from '#contract/http/client';
import { tunnelTargetOf } from '#contract/device-models';
import { TetherError } from '#contract/errors';
import { TUNNEL_H2_SETTINGS, TUNNEL_LINK_WINDOW, type TunnelLinkRoute, dialTunnelLink } from '#node-lib/tunnel-link';
import type { TUNNEL_COMMANDS } from '#contract/protocol/tunnels';
import { TUNNEL_WIRE, type TunnelPath, type TunnelTarget } from '#contract/tunnels';
import type { DeviceAdapter } from '../device.ts';
import type { CommandExecutor, HandlerContext } from '../executor.ts';
import type { LocalAuditFile } from '../local-audit.ts';

/** Time for a GOAWAY to leave before the link is cut. */
const GOAWAY_FLUSH_MS = 100;

type OpenTunnelParams = z.output<(typeof TUNNEL_COMMANDS)['open-tunnel']['params']>;
type OpenTunnelResult = z.output<(typeof TUNNEL_COMMANDS)['open-tunnel']['result']>;


export interface TunnelHandlerDeps {
  device: DeviceAdapter;
  /** The device certificate, key and secret (mTLS and the second factor on the relay). */
  identity: { certificatePem: string; privateKeyPem: string; deviceSecret: string };
  serverCaPem: string;
  /** The server as this agent reaches it: the relay is dialed on the same host (the console may know it by another name). */
  serverUrl: string;
  /** The transport's proxy and host map (AgentTransport.tunnelRoute): the relay is reached as the server is. */
  route: TunnelLinkRoute;
  audit: Pick<LocalAuditFile, 'append'>;
}

/**
 * `open-tunnel`: the executor checked the session grant (scope `tunnel`) and the
 * parameters. The agent checks the target against its model's list, dials the relay
 * (never listening itself), and serves HTTP/2 on that one connection: each CONNECT stream
 * is one TCP connection to the target's port on the device, piped under flow control. It
 * runs until the relay closes the link (succeeded, with the counters) or the command is
 * canceled — session end, tunnel closed, agent stopping — which closes every connection.
 */
export function registerTunnelHandlers(executor: CommandExecutor, deps: TunnelHandlerDeps): void {
  executor.register('open-tunnel', (params, context) => runTunnel(params as OpenTunnelParams, context, deps));
}

async function runTunnel(params: OpenTunnelParams, context: HandlerContext, deps: TunnelHandlerDeps): Promise<OpenTunnelResult> {
  const target = tunnelTargetOf(deps.device.modelId, params.targetId);
  if (!target) {
    deps.audit.append('tunnel.refused', 'denied', { tunnelId: params.tunnelId, targetId: params.targetId, reason: 'target not offered by this model' });
    throw new TetherError('TUNNEL_TARGET_NOT_ALLOWED', `this device offers no tunnel to “${params.targetId}”`);
  }
  const server = new URL(deps.serverUrl);
  const fallback = new URL(pathOf(AGENT_ROUTES, 'tunnels.link', { tunnelId: params.tunnelId }), server);
  fallback.protocol = 'wss:';
  const link = await dialTunnelLink({
    relay: { host: server.hostname.replace(/^\[|\]$/g, ''), port: params.relay.port, fallbackUrl: fallback.toString() },
    path: pathOf(AGENT_ROUTES, 'tunnels.link', { tunnelId: params.tunnelId }),
    headers: { [TUNNEL_WIRE.deviceSecretHeader]: deps.identity.deviceSecret },
    ca: deps.serverCaPem,
    cert: deps.identity.certificatePem,
    key: deps.identity.privateKeyPem,
    ...deps.route,
    signal: context.signal,
  }).catch((err: unknown) => {
    if (!context.signal.aborted) deps.audit.append('tunnel.fail', 'failed', { tunnelId: params.tunnelId, targetId: target.id, reason: (err as Error).message });
    throw err;
  });
  deps.audit.append('tunnel.open', 'ok', { tunnelId: params.tunnelId, targetId: target.id, port: target.port, path: link.path });
  context.log(`joined the relay (${link.path === 'direct' ? 'direct' : '443 fallback'})`);
  const carried = await carry(link.stream, link.path, params, target, context, deps);
  deps.audit.append('tunnel.close', 'ok', { tunnelId: params.tunnelId, targetId: target.id, ...carried });
  if (context.signal.aborted) throw context.signal.reason;
  return carried;
}

/** Serves the link until it closes or the command is aborted; resolves with what it carried. */
function carry(link: Duplex, path: TunnelPath, params: OpenTunnelParams, target: TunnelTarget, context: HandlerContext, deps: TunnelHandlerDeps): Promise<OpenTunnelResult> {
  const figures = { path, bytesToDevice: 0, bytesFromDevice: 0, connections: 0 };
  const sockets = new Set<net.Socket>();
  const authority = `${target.id}:${target.port}`;
  const server = http2.createServer({ settings: TUNNEL_H2_SETTINGS });

  server.on('stream', (stream, headers) => {
    stream.on('error', () => stream.destroy());
    if (headers[':method'] !== 'CONNECT' || headers[':authority'] !== authority) {
      // the relay asks for this tunnel's target only; anything else is refused as the command's target is
      deps.audit.append('tunnel.refused', 'denied', { tunnelId: params.tunnelId, requested: String(headers[':authority'] ?? ''), reason: 'not this tunnel’s target' });
      answerError(stream, new TetherError('TUNNEL_TARGET_NOT_ALLOWED', `this tunnel reaches ${authority} only`));
      return;
    }
    connectTarget(target, deps.device)
      .then((socket) => {
        if (stream.destroyed || stream.closed) {
          socket.destroy();
          return;
        }
        sockets.add(socket);
        figures.connections += 1;
        stream.respond({ ':status': 200 });
        stream.on('data', (chunk: Buffer) => {
          figures.bytesToDevice += chunk.length;
        });
        socket.on('data', (chunk: Buffer) => {
          figures.bytesFromDevice += chunk.length;
        });
        stream.pipe(socket);
        socket.pipe(stream);
        socket.on('error', () => socket.destroy());
        // a clean end on one side lets the other drain; anything else (reset, error) cuts it
        socket.on('close', (hadError) => {
          sockets.delete(socket);
          if (!stream.closed && (hadError || !socket.readableEnded)) stream.close(http2.constants.NGHTTP2_CANCEL);
        });
        stream.on('close', () => {
          if (!(stream.readableEnded && stream.writableFinished)) socket.destroy();
        });
      })
      .catch((err: unknown) => answerError(stream, err instanceof TetherError ? err : new TetherError('TUNNEL_UNREACHABLE', (err as Error).message)));
  });

  return new Promise((resolve) => {
    let session: http2.ServerHttp2Session | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      context.signal.removeEventListener('abort', end);
      for (const socket of sockets) socket.destroy();
      const reason: unknown = context.signal.aborted ? context.signal.reason : undefined;
      if (session && !session.destroyed && reason instanceof TetherError && reason.code === 'SESSION_ENDED') {
        // the relay hears why before the link goes: the server may learn of a revocation here only later
        session.goaway(http2.constants.NGHTTP2_NO_ERROR, 0, Buffer.from(TUNNEL_WIRE.goawaySessionEnded));
        const closing = session;
        setTimeout(() => {
          closing.destroy();
          link.destroy();
        }, GOAWAY_FLUSH_MS).unref();
      } else {
        session?.destroy();
        link.destroy();
      }
      resolve(figures);
    };
    server.on('session', (s) => {
      session = s;
      s.on('connect', () => {
        if (!s.destroyed) s.setLocalWindowSize(TUNNEL_LINK_WINDOW);
      });
      s.on('error', () => s.destroy());
      s.on('close', end);
    });
    server.on('sessionError', end);
    link.on('close', end);
    link.on('error', end);
    if (context.signal.aborted) end();
    else context.signal.addEventListener('abort', end, { once: true });
    server.emit('connection', link);
  });
}

/** Connects to the target's port where the device reaches it; TUNNEL_UNREACHABLE when nothing answers there. */
async function connectTarget(target: TunnelTarget, device: DeviceAdapter): Promise<net.Socket> {
  const endpoint = await device.serviceEndpoint?.(target.id);
  if (!endpoint) throw new TetherError('TUNNEL_UNREACHABLE', `${target.label} (port ${target.port}) is not running on this device`);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (err: Error & { code?: string }) => reject(new TetherError('TUNNEL_UNREACHABLE', `${target.label} (port ${target.port}) does not answer: ${err.code ?? err.message}`)));
  });
}

function answerError(stream: http2.ServerHttp2Stream, error: TetherError): void {
  if (stream.closed || stream.destroyed) return;
  stream.respond({ ':status': error.httpStatus, 'content-type': 'application/json' });
  stream.end(JSON.stringify(error.toBody()));
}
