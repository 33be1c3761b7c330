import { open } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { HttpRequest, HttpResponse, HttpStack } from 'tus-js-client';

/** Bytes read from the file at a time: sixteen times Node's default, so sixteen times fewer TLS writes. */
export const UPLOAD_READ_BYTES = 1024 * 1024;

/**
 * Read buffers per request, reused: one being filled while the others are written. A fresh
 * buffer per read made the sender's heap grow by the file's size, and V8 answered that
 * with a full garbage collection every ~20 MiB — a third of the agent's CPU per byte sent
 * (measured: docs/benchmarks.md).
 */
export const UPLOAD_READ_BUFFERS = 4;

/** Largest answer body kept from the server (its answers to tus requests are small JSON). */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** A byte range of a file: what `fileSlices` hands tus-js-client, and `FileUploadStack` sends. */
export class FileRange {
  constructor(
    readonly path: string,
    readonly start: number,
    /** Bytes in the range (tus-js-client reads `size`). */
    readonly size: number,
  ) {}
}

/**
 * A file as tus-js-client reads it (its `fileReader` source): each PATCH body is a
 * `FileRange`, read only while `FileUploadStack` sends it — nothing held open between
 * requests, nothing buffered beyond its few read buffers.
 */
export function fileSlices(path: string, size: number) {
  return {
    size,
    slice(start: number, end: number) {
      const length = Math.max(0, Math.min(end, size) - start);
      return Promise.resolve({ value: length === 0 ? null : new FileRange(path, start, length), done: start + length >= size });
    },
    close() {},
  };
}

/**
 * tus-js-client's HTTP stack for files: a request like its Node stack's (the same request
 * options: agent, TLS context, headers), whose `FileRange` body is read into
 * `UPLOAD_READ_BUFFERS` buffers that go back to reading only once the socket has taken
 * their bytes (the write's callback). Progress counts bytes the socket took.
 */
export class FileUploadStack implements HttpStack {
  constructor(private readonly options: https.RequestOptions = {}) {}

  createRequest(method: string, url: string): HttpRequest {
    return new FileUploadRequest(method, url, this.options);
  }

  getName(): string {
    return 'FileUploadStack';
  }
}

class FileUploadRequest implements HttpRequest {
  private readonly headers: Record<string, string> = {};
  private onProgress: (bytesSent: number) => void = () => undefined;
  private request: http.ClientRequest | undefined;

  constructor(
    private readonly method: string,
    private readonly url: string,
    private readonly options: https.RequestOptions,
  ) {}

  getMethod(): string {
    return this.method;
  }

  getURL(): string {
    return this.url;
  }

  setHeader(header: string, value: string): void {
    this.headers[header] = value;
  }

  getHeader(header: string): string | undefined {
    return this.headers[header];
  }

  setProgressHandler(handler: (bytesSent: number) => void): void {
    this.onProgress = handler;
  }

  getUnderlyingObject(): http.ClientRequest | undefined {
    return this.request;
  }

  abort(): Promise<void> {
    this.request?.destroy();
    return Promise.resolve();
  }

  send(body: unknown): Promise<HttpResponse> {
    if (body !== null && body !== undefined && !(body instanceof FileRange)) {
      return Promise.reject(new TypeError('FileUploadStack sends file ranges (from fileSlices) or nothing'));
    }
    const target = new URL(this.url);
    const given = this.options.headers;
    if (Array.isArray(given)) return Promise.reject(new TypeError('FileUploadStack takes its request headers as an object'));
    const headers: http.OutgoingHttpHeaders = { ...(given as http.OutgoingHttpHeaders | undefined), ...this.headers };
    if (body) headers['Content-Length'] = String(body.size);
    const request = (target.protocol === 'https:' ? https : http).request({
      protocol: target.protocol,
      hostname: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port,
      path: `${target.pathname}${target.search}`,
      ...this.options,
      method: this.method,
      headers,
    });
    this.request = request;
    return new Promise<HttpResponse>((resolve, reject) => {
      request.on('response', (res) => {
        const parts: Buffer[] = [];
        let kept = 0;
        res.on('data', (data: Buffer) => {
          if (kept + data.length <= MAX_ANSWER_BYTES) parts.push(data);
          kept += data.length;
        });
        res.on('end', () => resolve(new FileUploadResponse(res, Buffer.concat(parts).toString('utf8'))));
        res.on('error', reject);
      });
      request.on('error', reject);
      // aborted (or cut) before an answer: the promise must not wait for ever (settled ones ignore this)
      request.on('close', () => reject(new Error('the upload request closed before the server answered')));
      if (!body) {
        request.end();
        return;
      }
      writeRange(request, body, this.onProgress).then(
        () => {
          if (!request.destroyed) request.end();
        },
        (err: unknown) => request.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    });
  }
}

class FileUploadResponse implements HttpResponse {
  constructor(
    private readonly res: IncomingMessage,
    private readonly body: string,
  ) {}

  getStatus(): number {
    return this.res.statusCode ?? 0;
  }

  getHeader(header: string): string | undefined {
    const value = this.res.headers[header.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  getBody(): string {
    return this.body;
  }

  getUnderlyingObject(): IncomingMessage {
    return this.res;
  }
}

/**
 * Writes `range` of its file into `request`: the next buffer is read while the socket
 * drains, and a buffer is read into again only after the callback of its write (TLS has
 * taken its bytes by then) — never while its bytes may still wait in a queue. Stops when
 * the request closes.
 */
async function writeRange(request: http.ClientRequest, range: FileRange, onProgress: (bytesSent: number) => void): Promise<void> {
  const file = await open(range.path, 'r');
  try {
    const free = Array.from({ length: UPLOAD_READ_BUFFERS }, () => Buffer.allocUnsafeSlow(Math.min(UPLOAD_READ_BYTES, range.size)));
    let wake: (() => void) | undefined;
    const wakeUp = () => {
      const waiting = wake;
      wake = undefined;
      waiting?.();
    };
    // woken by a write's callback, 'drain' or 'close': each may be the one waited for, or not
    const until = async (ready: () => boolean) => {
      while (!ready() && !request.destroyed) await new Promise<void>((resolve) => (wake = resolve));
    };
    request.on('drain', wakeUp);
    request.once('close', wakeUp);
    let sent = 0;
    let read = 0;
    while (read < range.size) {
      await until(() => free.length > 0);
      if (request.destroyed) return;
      const buffer = free.pop()!;
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, range.size - read), range.start + read);
      if (bytesRead === 0) throw new Error(`${range.path} ended at byte ${range.start + read}, before the ${range.size} bytes to send from byte ${range.start}`);
      read += bytesRead;
      // read ahead while the socket drains; write once it has
      await until(() => !request.writableNeedDrain);
      if (request.destroyed) return;
      request.write(buffer.subarray(0, bytesRead), (err) => {
        if (!err) {
          sent += bytesRead;
          onProgress(sent);
        }
        free.push(buffer);
        wakeUp();
      });
    }
  } finally {
    await file.close();
  }
}
