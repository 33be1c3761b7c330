import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { type BridgeMessage, BridgeRequestSchema } from '../shared/ipc.ts';
import { type EventHub, type IpcHandlers, dispatchCall } from './dispatch.ts';
import { contentSecurityPolicy } from './security.ts';
import { resolveStaticFile } from './static-files.ts';


export interface BrowserBridgeOptions {
  handlers: IpcHandlers;
  events: EventHub;
  /** The built renderer (out/renderer). */
  staticDir: string;
  port?: number;
  onInternalError?: (err: unknown, call: string) => void;
}

export interface BrowserBridge {
  /** Open this in a browser: it carries the per-launch token in its fragment. */
  readonly url: string;
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * Browser mode: serves the renderer on 127.0.0.1 only and carries the same contract over
 * a WebSocket. The socket is accepted only with this launch's random token and only from
 * the page's own origin; the Host header must name the loopback address (no DNS
 * rebinding). Every call goes through the same dispatcher as Electron IPC.
 */
export async function startBrowserBridge(options: BrowserBridgeOptions): Promise<BrowserBridge> {
  const token = randomBytes(24).toString('base64url');
  const staticRoot = resolve(options.staticDir);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const sockets = new Set<WebSocket>();
  let origin = '';

  const server = createServer((req, res) => {
    if (req.headers.host !== new URL(origin).host) return refuse(res, 421, 'wrong host');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed');
    serveStatic(staticRoot, req, res, origin);
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', origin);
    const offered = Buffer.from(url.searchParams.get('token') ?? '');
    const expected = Buffer.from(token);
    const tokenOk = offered.length === expected.length && timingSafeEqual(offered, expected);
    if (url.pathname !== '/bridge' || req.headers.origin !== origin || req.headers.host !== new URL(origin).host || !tokenOk) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data) => void answer(ws, String(data)));
    });
  });

  async function answer(ws: WebSocket, text: string): Promise<void> {
    let request;
    try {
      request = BridgeRequestSchema.safeParse(JSON.parse(text));
    } catch {
      request = undefined;
    }
    if (!request?.success) {
      ws.close(4003, 'malformed bridge message');
      return;
    }
    const result = await dispatchCall(options.handlers, request.data.call, request.data.input, options.onInternalError);
    const message: BridgeMessage = result.ok
      ? { type: 'result', id: request.data.id, ok: true, output: result.output }
      : { type: 'result', id: request.data.id, ok: false, error: result.error };
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  }

  const detach = options.events.attach((event, payload) => {
    const message: BridgeMessage = { type: 'event', event, payload };
    const text = JSON.stringify(message);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: `${origin}/#token=${token}`,
    origin,
    async close() {
      detach();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(message);
}

/** Serves a file under `root` only; anything that escapes it, or is missing, is 404. */
function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, origin: string): void {
  const found = resolveStaticFile(root, new URL(req.url ?? '/', origin).pathname);
  if (!found) return refuse(res, 404, 'not found');
  res.writeHead(200, {
    'content-type': found.mime,
    'content-security-policy': contentSecurityPolicy({ connectSrc: [origin.replace('http:', 'ws:')] }),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(found.file).pipe(res);
}
