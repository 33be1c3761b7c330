import { createHash } from 'node:crypto';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpStack } from 'tus-js-client';
import type { z } from 'zod';
import { backoffDelay } from '#contract/backoff';
import { TetherError, type ErrorCode, parseErrorBody } from '#contract/errors';
import type { TransferAck } from '#contract/api/transfers';
import { AGENT_ROUTES, type AgentRoutes } from '#contract/http/agent-routes';
import { RouteClient, type RouteRequest } from '#contract/http/client';
import type { AgentTransfer } from '#contract/protocol/transfers';
import { chunkRange, type TransferManifest } from '#contract/transfers';
import { FileUploadStack } from '#node-lib/file-slices';
import type { AgentTransport } from '../transport.ts';

/** Failures worth another try: the server or the way to it was away for a moment. */
const RETRYABLE: readonly ErrorCode[] = ['SERVER_UNREACHABLE', 'INTERNAL', 'RATE_LIMITED', 'PROXY_REFUSED'];

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  /** Give up after this long without one success. */
  patienceMs: number;
}

/** Rides out a server restart or a network blip; a server that stays away fails the command (and the server queues it again). */
export const DEFAULT_RETRY: RetryPolicy = { baseMs: 250, maxMs: 5000, patienceMs: 120_000 };

/**
 * The agent's side of the transfer endpoints (`/agent/v1/transfers`, `/agent/v1/uploads`)
 * over its own transport: pinned CA, device certificate and secret, proxy, host map.
 * Every call is abortable; transient failures are retried with backoff within a patience.
 */
export class TransferClient {
  constructor(
    private readonly transport: AgentTransport,
    private readonly timeoutMs: number,
    readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {}

  /** The transfer routes of the agent protocol, sent on the transfer channel; a call's option is its abort signal. */
  private readonly api = new RouteClient<AgentRoutes, AbortSignal>(AGENT_ROUTES, (request, signal) => this.json(request, signal ?? new AbortController().signal));

  get(id: string, signal: AbortSignal): Promise<AgentTransfer> {
    return this.withRetry(signal, () => this.api.call('transfers.get', { transferId: id }, undefined, signal));
  }

  declareManifest(id: string, manifest: TransferManifest, signal: AbortSignal): Promise<AgentTransfer> {
    return this.withRetry(signal, () => this.api.call('transfers.manifest', { transferId: id }, manifest, signal));
  }

  ack(id: string, ack: TransferAck, signal: AbortSignal): Promise<AgentTransfer> {
    return this.withRetry(signal, () => this.api.call('transfers.ack', { transferId: id }, ack, signal));
  }

  /**
   * Chunk `index` into `into` (a buffer the caller reuses: large fresh allocations cost
   * more than the bytes), waiting while it is not on the server yet (the server holds each
   * request a while before answering CHUNK_NOT_READY; `on.waiting` hears of it) —
   * `on.arriving` hears when its bytes start to come. Returns its length and SHA-256 as
   * received; the caller verifies them.
   */
  async chunk(
    id: string,
    index: number,
    manifest: TransferManifest,
    into: Buffer,
    signal: AbortSignal,
    on: { waiting?: () => void; arriving?: () => void } = {},
  ): Promise<{ length: number; sha256: string }> {
    const { start, end } = chunkRange(index, manifest.size, manifest.chunkSize);
    const path = this.api.path('transfers.content', { transferId: id });
    for (;;) {
      try {
        return await this.withRetry(signal, () => this.download(path, `bytes=${start}-${end - 1}`, into, signal, on.arriving));
      } catch (err) {
        if (!(err instanceof TetherError) || err.code !== 'CHUNK_NOT_READY') throw err;
        on.waiting?.();
        await sleep(200, undefined, { signal });
      }
    }
  }

  uploadUrl(id: string): string {
    return `${this.transport.serverUrl}${this.api.path('transfers.upload', { transferId: id })}`;
  }

  /** The HTTP stack tus-js-client sends file ranges with, on this agent's connection options. */
  tusHttpStack(): HttpStack {
    return new FileUploadStack(this.transport.transferRequestOptions());
  }

  /** A tus-js-client failure as the TetherError the server (or the network) meant. */
  tusError(err: Error & { originalResponse?: { getStatus(): number; getBody(): string } | null; causingError?: Error | null }): TetherError {
    const res = err.originalResponse;
    if (res) return toError(res.getStatus(), Buffer.from(res.getBody() ?? ''));
    return this.transport.describeError(err.causingError ?? err);
  }

  /** Runs `attempt` until it succeeds, fails for good, the patience runs out or `signal` aborts. */
  async withRetry<T>(signal: AbortSignal, attempt: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + this.retry.patienceMs;
    for (let failures = 0; ; failures += 1) {
      signal.throwIfAborted();
      try {
        return await attempt();
      } catch (err) {
        if (signal.aborted || !(err instanceof TetherError) || !RETRYABLE.includes(err.code) || Date.now() >= giveUpAt) throw err;
        await sleep(Math.max(50, backoffDelay(this.retry, failures)), undefined, { signal });
      }
    }
  }

  private async json(request: RouteRequest, signal: AbortSignal): Promise<unknown> {
    const { method, path, body } = request;
    const res = await this.request(method, path, body === undefined ? {} : { 'content-type': 'application/json' }, body === undefined ? undefined : Buffer.from(JSON.stringify(body)), signal, this.timeoutMs);
    if (res.status >= 300) throw toError(res.status, res.body);
    return parse(request.response, res.body, path);
  }

  /** One content request, streamed into `into` while it is hashed. */
  private download(path: string, range: string, into: Buffer, signal: AbortSignal, onArriving?: () => void): Promise<{ length: number; sha256: string }> {
    const base = this.transport.transferRequestOptions();
    return new Promise((resolve, reject) => {
      const req = https.request({ ...base, path, method: 'GET', signal, headers: { ...base.headers, range } }, (res) => {
        if (res.statusCode !== 206) {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () => reject(toError(res.statusCode ?? 0, Buffer.concat(parts))));
          res.on('error', (err) => reject(this.describe(err, signal)));
          return;
        }
        onArriving?.();
        let length = 0;
        res.on('data', (part: Buffer) => {
          if (length + part.length > into.length) {
            req.destroy(new TetherError('CHECKSUM_MISMATCH', 'the server sent more than one chunk'));
            return;
          }
          part.copy(into, length);
          length += part.length;
        });
        res.on('end', () => {
          // a response cut short (the server found its copy damaged, or the connection broke)
          if (!res.complete) reject(new TetherError('SERVER_UNREACHABLE', 'the chunk arrived incomplete'));
          // one hash call over the whole chunk: far cheaper than one per TLS record
          else resolve({ length, sha256: createHash('sha256').update(into.subarray(0, length)).digest('hex') });
        });
        res.on('error', (err) => reject(this.describe(err, signal)));
      });
      req.setTimeout(this.timeoutMs + 60_000, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(err instanceof TetherError ? err : this.describe(err, signal)));
      req.end();
    });
  }

  private request(
    method: string,
    path: string,
    headers: Record<string, string>,
    payload: Buffer | undefined,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const base = this.transport.transferRequestOptions();
    return new Promise((resolve, reject) => {
      const req = https.request(
        { ...base, path, method, signal, headers: { ...base.headers, ...headers, ...(payload ? { 'content-length': payload.length } : {}) } },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
          res.on('error', (err) => reject(this.describe(err, signal)));
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(this.describe(err, signal)));
      req.end(payload);
    });
  }

  private describe(err: Error & { code?: string }, signal: AbortSignal): Error {
    // an abort is the command's own decision: surface its reason, not a network failure
    if (signal.aborted) return signal.reason instanceof Error ? signal.reason : new TetherError('COMMAND_FAILED', 'aborted');
    return this.transport.describeError(err);
  }
}

function toError(status: number, body: Buffer): TetherError {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    json = undefined;
  }
  const error = parseErrorBody(json);
  if (error) return new TetherError(error.error.code, error.error.message, error.error.details);
  // tus protocol answers (offset conflict, upload locked) are plain text
  if (status === 409 || status === 423) return new TetherError('CONFLICT', body.toString('utf8').trim() || `HTTP ${status}`);
  return new TetherError(status >= 500 ? 'SERVER_UNREACHABLE' : 'COMMAND_FAILED', `unexpected HTTP ${status} from the server`);
}

function parse<S extends z.ZodType>(schema: S, body: Buffer, path: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new TetherError('VALIDATION_FAILED', `the server's answer to ${path} does not match the protocol`);
  return parsed.data;
}
