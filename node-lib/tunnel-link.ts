import https from 'node:https';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import WebSocket, { createWebSocketStream } from 'ws';
import { ErrorBodySchema, TetherError } from '#contract/errors';
import { TUNNEL_WIRE, type RelayEndpoint, type TunnelPath } from '#contract/tunnels';
import { describeConnectionError, proxyRefusal } from './connection-errors.ts';

/**
 * Dials one leg of a tunnel (console or agent) to the relay: an HTTP/1.1 Upgrade
 * (`Upgrade: tether-tunnel`) on the relay's own port first, and only when that port cannot
 * be reached at all (or a proxy refused it), a WebSocket on the API port (the 443
 * fallback). What comes back is a plain byte stream on which the caller runs HTTP/2
 * (docs/protocol.md, Tunnels). Both dials
 * go the way the caller's API connection goes: through its proxy (CONNECT, TLS end to end)
 * or directly with its name lookup (an agent's host map).
 */

/**
 * An agent a link's connection is made with. One that tunnels through a proxy names it
 * (`host:port` of its latest connection) and, when a setting chose the proxy, who chose it
 * and how to sign in to it: what a refusal by the proxy says.
 */
export type TunnelLinkAgent = https.Agent & {
  readonly proxyHost?: string | undefined;
  readonly proxyAbout?: { chosenBy?: string | undefined; advice?: string | undefined } | undefined;
};

/** How a link reaches the relay: the caller's proxy choice and name lookup. */
export interface TunnelLinkRoute {
  /**
   * The agent for a connection to `url` — `https://host:port/` for the relay port, the
   * fallback's `wss://` URL — asked per URL so a PAC script can choose; undefined dials directly.
   */
  agentFor?: ((url: string) => Promise<TunnelLinkAgent | undefined>) | undefined;
  /** Name resolution for a connection made without a proxy (an agent's host map). */
  lookup?: LookupFunction | undefined;
}

export interface TunnelLinkOptions extends TunnelLinkRoute {
  relay: RelayEndpoint;
  /** The link route's path: `tunnels.link` of the console API or of the agent protocol (contract/http). */
  path: string;
  headers: Record<string, string>;
  /** The pinned server CA. */
  ca: string | Buffer;
  /** The agent's device certificate and key (mTLS); the console has none. */
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  /** How long the direct port may take to answer the upgrade before the fallback is tried. */
  directTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface TunnelLink {
  stream: Duplex;
  path: TunnelPath;
}

/**
 * ALPN name both relay ports negotiate. It tells node:http2 that the TLS socket carries our
 * protocol (it turns away sockets that negotiated nothing or `http/1.1`) once the upgrade
 * has switched it over.
 */
export const TUNNEL_ALPN = 'tether-tunnel';

/**
 * HTTP/2 flow-control windows every party of a tunnel uses (console, relay, agent): a stream
 * may have 2 MiB in flight, a whole link 4 MiB. A stream whose reader stalls fills only its
 * own window; the others go on. The stream window bounds one connection's throughput
 * (window ÷ round trip); the link window stays within what socket buffers hold, because
 * node:http2 stops reading its socket while one of its own writes is pending, so two peers
 * with more in flight than that wait on each other for ever (measured: 19 echoing streams
 * with 1 MiB stream and 16 MiB link windows deadlock on loopback; docs/benchmarks.md).
 */
export const TUNNEL_STREAM_WINDOW = 2 * 1024 * 1024;
export const TUNNEL_LINK_WINDOW = 4 * 1024 * 1024;
export const TUNNEL_H2_SETTINGS = { initialWindowSize: TUNNEL_STREAM_WINDOW, enablePush: false } as const;

const DEFAULT_DIRECT_TIMEOUT_MS = 3000;
/** An error answer is a small JSON body; anything longer is not ours. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;

/** The relay answered, and said no: final, never retried on the fallback (the ticket may be spent). */
class RelayAnswer extends Error {
  constructor(readonly error: TetherError) {
    super(error.message);
  }
}

/**
 * Opens a link: direct, else the WebSocket fallback — also when the proxy refused the relay
 * port (many allow only 443). Errors are TetherErrors: the relay's code, the proxy's
 * refusal (PROXY_REFUSED, PROXY_AUTH_REQUIRED), or SERVER_UNREACHABLE.
 */
export async function dialTunnelLink(options: TunnelLinkOptions): Promise<TunnelLink> {
  options.signal?.throwIfAborted();
  let directFailure: TetherError;
  try {
    return { stream: await dialDirect(options), path: 'direct' };
  } catch (err) {
    if (err instanceof RelayAnswer) throw err.error;
    options.signal?.throwIfAborted();
    if (err instanceof TetherError && err.code === 'CERT_PIN_MISMATCH') throw err;
    directFailure = err instanceof TetherError ? err : new TetherError('SERVER_UNREACHABLE', String(err));
  }
  try {
    return { stream: await dialFallback(options), path: 'fallback' };
  } catch (err) {
    if (err instanceof RelayAnswer) throw err.error;
    options.signal?.throwIfAborted();
    if (err instanceof TetherError && err.code !== 'SERVER_UNREACHABLE') throw err;
    const fallbackMessage = err instanceof Error ? err.message : String(err);
    throw new TetherError('SERVER_UNREACHABLE', `relay unreachable: port ${options.relay.port}: ${directFailure.message}; fallback ${options.relay.fallbackUrl}: ${fallbackMessage}`);
  }
}

async function dialDirect(options: TunnelLinkOptions): Promise<Duplex> {
  const { relay } = options;
  const authority = `${relay.host.includes(':') ? `[${relay.host}]` : relay.host}:${relay.port}`;
  const agent = await options.agentFor?.(`https://${authority}/`);
  options.signal?.throwIfAborted();
  return new Promise<Duplex>((resolve, reject) => {
    let settled = false;
    // https.request passes TLS options through to tls.connect; its type lists only some of them.
    const requestOptions: https.RequestOptions & Pick<ConnectionOptions, 'ALPNProtocols'> = {
      host: relay.host,
      port: relay.port,
      path: options.path,
      method: 'GET',
      headers: { ...options.headers, connection: 'Upgrade', upgrade: TUNNEL_WIRE.upgrade },
      ca: options.ca,
      ...(options.cert ? { cert: options.cert } : {}),
      ...(options.key ? { key: options.key } : {}),
      ...(options.servername ? { servername: options.servername } : {}),
      // https-proxy-agent hands these TLS options to the session inside the CONNECT tunnel too
      ALPNProtocols: [TUNNEL_ALPN],
      agent: agent ?? false,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    };
    const request = https.request(requestOptions);
    const proxyStatus = watchProxyAnswer(request);
    const finish = (outcome: { stream: Duplex } | { error: unknown }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if ('stream' in outcome) resolve(outcome.stream);
      else reject(outcome.error);
    };
    const onAbort = () => {
      request.destroy();
      finish({ error: options.signal?.reason });
    };
    const timer = setTimeout(() => {
      request.destroy();
      finish({ error: new TetherError('SERVER_UNREACHABLE', `no answer from ${relay.host}:${relay.port} within ${options.directTimeoutMs ?? DEFAULT_DIRECT_TIMEOUT_MS} ms`) });
    }, options.directTimeoutMs ?? DEFAULT_DIRECT_TIMEOUT_MS);
    options.signal?.addEventListener('abort', onAbort, { once: true });

    request.on('upgrade', (response, socket, head) => {
      if (settled) {
        socket.destroy();
        return;
      }
      if (response.statusCode !== 101 || response.headers.upgrade?.toLowerCase() !== TUNNEL_WIRE.upgrade) {
        socket.destroy();
        finish({ error: new RelayAnswer(new TetherError('SERVER_UNREACHABLE', `${relay.host}:${relay.port} switched to an unexpected protocol`)) });
        return;
      }
      if (head.length > 0) socket.unshift(head);
      finish({ stream: socket });
    });
    request.on('response', (response) => {
      // the proxy's own answer to CONNECT, replayed as the response: not the relay's word, so the fallback may still pass
      if (proxyStatus.refused()) {
        response.destroy();
        finish({ error: proxyRefused(agent, proxyStatus.status(), authority) });
        return;
      }
      readRefusal(response).then(
        (error) => finish({ error: new RelayAnswer(error) }),
        (error: unknown) => finish({ error }),
      );
    });
    request.on('error', (err: Error & { code?: string }) => finish({ error: describeConnectionError(err, { host: authority, proxyHost: agent?.proxyHost }) }));
    request.end();
  });
}

async function dialFallback(options: TunnelLinkOptions): Promise<Duplex> {
  const url = new URL(options.relay.fallbackUrl);
  const agent = await options.agentFor?.(url.href);
  options.signal?.throwIfAborted();
  return new Promise<Duplex>((resolve, reject) => {
    let settled = false;
    let proxyStatus: ReturnType<typeof watchProxyAnswer> | undefined;
    const socket = new WebSocket(url, TUNNEL_WIRE.wsProtocol, {
      headers: options.headers,
      ca: options.ca,
      ...(options.cert ? { cert: options.cert } : {}),
      ...(options.key ? { key: options.key } : {}),
      ...(options.servername ? { servername: options.servername } : {}),
      ...(agent ? { agent } : {}),
      ...(options.lookup ? { lookup: options.lookup } : {}),
      perMessageDeflate: false,
      handshakeTimeout: options.directTimeoutMs ?? DEFAULT_DIRECT_TIMEOUT_MS,
      finishRequest: (request) => {
        proxyStatus = watchProxyAnswer(request);
        request.end();
      },
    });
    const finish = (outcome: { stream: Duplex } | { error: unknown }) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if ('stream' in outcome) resolve(outcome.stream);
      else reject(outcome.error);
    };
    const onAbort = () => {
      socket.terminate();
      finish({ error: options.signal?.reason });
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    socket.on('open', () => {
      if (socket.protocol !== TUNNEL_WIRE.wsProtocol) {
        socket.terminate();
        finish({ error: new RelayAnswer(new TetherError('SERVER_UNREACHABLE', `${url.host} did not speak ${TUNNEL_WIRE.wsProtocol}`)) });
        return;
      }
      finish({ stream: createWebSocketStream(socket) });
    });
    socket.on('unexpected-response', (request, response) => {
      if (proxyStatus?.refused()) {
        request.destroy();
        finish({ error: proxyRefused(agent, proxyStatus.status(), url.host) });
        return;
      }
      readRefusal(response).then(
        (error) => finish({ error: new RelayAnswer(error) }),
        (error: unknown) => finish({ error }),
      ).finally(() => request.destroy());
    });
    socket.on('error', (err: Error & { code?: string }) => {
      finish({ error: describeConnectionError(err, { host: url.host, proxyHost: agent?.proxyHost }) });
    });
  });
}

/** Notes the proxy's answer to CONNECT (https-proxy-agent emits it on the request before any response). */
function watchProxyAnswer(request: ClientRequest): { refused(): boolean; status(): number } {
  let status: number | undefined;
  request.on('proxyConnect', (connect: { statusCode: number }) => {
    status = connect.statusCode;
  });
  return { refused: () => status !== undefined && status !== 200, status: () => status ?? 0 };
}

/** A proxy's refusal to CONNECT, as the API connection reports it. */
function proxyRefused(agent: TunnelLinkAgent | undefined, status: number, target: string): TetherError {
  return proxyRefusal(status, agent?.proxyHost ?? 'in use', target, agent?.proxyAbout);
}

/** The relay's error answer as a TetherError: its code when the body is ours, else the status. */
function readRefusal(response: IncomingMessage): Promise<TetherError> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const status = response.statusCode ?? 0;
    const fromStatus = () => new TetherError('SERVER_UNREACHABLE', `the relay answered ${status} instead of switching to the tunnel`, { status });
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ERROR_BODY_BYTES) {
        response.destroy();
        resolve(fromStatus());
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => {
      let parsed;
      try {
        parsed = ErrorBodySchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        parsed = undefined;
      }
      resolve(parsed?.success ? new TetherError(parsed.data.error.code, parsed.data.error.message, parsed.data.error.details) : fromStatus());
    });
    response.on('error', () => resolve(fromStatus()));
  });
}
