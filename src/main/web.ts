import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { HTTP_STATUS_BY_CODE, TetherError } from '#contract/errors';
import { type BridgeMessage, BridgeRequestSchema } from '#contract/ipc';
import { type EventHub, type IpcHandlers, dispatchCall } from './dispatch.ts';
import { contentSecurityPolicy } from './security.ts';
import { resolveStaticFile } from './static-files.ts';
import type { StagingArea } from './services/transfers/staging.ts';

export interface BrowserBridgeOptions {
  handlers: IpcHandlers;
  events: EventHub;
  /** The built renderer (out/renderer). */
  staticDir: string;
  port?: number;
  onInternalError?: (err: unknown, call: string) => void;
  /** Where `PUT /staging/<uuid>` puts files the page hands over for an upload. */
  staging?: StagingArea;
  /** The file of a finished download, for `GET /downloads/<id>` (the browser saves it). */
  downloadedFile?: (id: string) => { path: string; fileName: string };
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
 * rebinding). Every call goes through the same dispatcher as Electron IPC. Files cross
 * on two more routes under the same checks: `PUT /staging/<uuid>` (a file the page
 * hands over for an upload) and `GET /downloads/<id>` (a finished download, saved by the
 * browser itself).
 */
export async function startBrowserBridge(options: BrowserBridgeOptions): Promise<BrowserBridge> {
  const token = randomBytes(24).toString('base64url');
  const staticRoot = resolve(options.staticDir);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const sockets = new Set<WebSocket>();
  let origin = '';

  const tokenOk = (url: URL) => {
    const offered = Buffer.from(url.searchParams.get('token') ?? '');
    const expected = Buffer.from(token);
    return offered.length === expected.length && timingSafeEqual(offered, expected);
  };

  const server = createServer((req, res) => {
    if (req.headers.host !== new URL(origin).host) return refuse(res, 421, 'wrong host');
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname.startsWith('/staging/') || url.pathname.startsWith('/downloads/')) {
      void serveFileRoute(url, req, res).catch((err: unknown) => answerError(res, err));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed');
    serveStatic(staticRoot, req, res, origin);
  });

  /**
   * The file routes: the launch token, and the page's own origin — a `fetch` PUT always
   * names it; a download link's GET may name none, but then the browser says it came
   * from the same origin (Sec-Fetch-Site) or from nowhere (typed by hand).
   */
  async function serveFileRoute(url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const site = req.headers['sec-fetch-site'];
    const originOk = req.headers.origin === origin || (req.method === 'GET' && req.headers.origin === undefined && (site === undefined || site === 'same-origin' || site === 'none'));
    if (!tokenOk(url) || !originOk) return refuse(res, 403, 'forbidden');
    const [, route, id = ''] = url.pathname.split('/');
    if (route === 'staging' && req.method === 'PUT' && options.staging) {
      const length = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
      const staged = await options.staging.receive(decodeURIComponent(id), url.searchParams.get('name') ?? 'file', req, Number.isFinite(length) ? length : undefined);
      res.writeHead(201, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ stagedId: decodeURIComponent(id), size: staged.size }));
      return;
    }
    if (route === 'downloads' && req.method === 'GET' && options.downloadedFile) {
      const file = options.downloadedFile(decodeURIComponent(id));
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(statSync(file.path).size),
        'content-disposition': contentDisposition(file.fileName),
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
      });
      createReadStream(file.path).pipe(res);
      return;
    }
    refuse(res, 405, 'method not allowed');
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', origin);
    if (url.pathname !== '/bridge' || req.headers.origin !== origin || req.headers.host !== new URL(origin).host || !tokenOk(url)) {
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

/** A failed file route, as the contract's error body (the page phrases it by code). */
function answerError(res: ServerResponse, err: unknown): void {
  const error = err instanceof TetherError ? err : new TetherError('INTERNAL', 'the file could not be handled; see the console log');
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(HTTP_STATUS_BY_CODE[error.code], { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify(error.toBody()));
}

/** `attachment` with the name, plain for old parsers and RFC 5987-encoded for any character. */
function contentDisposition(fileName: string): string {
  const plain = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${plain}"; filename*=UTF-8''${encoded}`;
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
