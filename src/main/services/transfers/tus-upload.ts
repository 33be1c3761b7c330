import type https from 'node:https';
import { type DetailedError, Upload } from 'tus-js-client';
import { TetherError, parseErrorBody } from '#contract/errors';
import { FileUploadStack, fileSlices } from '#node-lib/file-slices';
import { TRANSFER_PATCH_CHUNKS } from '#contract/transfers';

/** What an upload needs of the console's server connection. */
export interface TusTarget {
  /** The absolute URL of the transfer's tus resource (ServerConnection.routeUrl). */
  routeUrl(name: 'transfers.upload', params: { transferId: string }): string;
  httpsAgent: https.Agent;
  currentToken(): Promise<string>;
  renewExpired(used: string): Promise<void>;
  networkError(err: Error & { code?: string }): TetherError;
}

export interface TusUploadOptions {
  target: TusTarget;
  transferId: string;
  path: string;
  size: number;
  /** The manifest's chunk size (a PATCH carries `TRANSFER_PATCH_CHUNKS` of them). */
  chunkSize: number;
  signal: AbortSignal;
  /** Bytes the server accepted, or has in flight. */
  onProgress: (bytes: number) => void;
  onUrl: (url: string) => void;
  /** No byte moved for this long: the link is dead, give up (the engine retries). */
  stallMs?: number;
}

/**
 * Sends a local file with tus 1.0.0 over the connection's own HTTPS agent (pinned CA,
 * proxy) and bearer token. The upload exists with its transfer (`/uploads/<transferId>`):
 * a HEAD tells how far the server got, so a second call after any interruption — or a
 * console restart — continues from there. Failures come back as TetherErrors; retrying is
 * the caller's business (tus's own retries are off).
 */
export function tusUpload(options: TusUploadOptions): Promise<void> {
  const { target, signal } = options;
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let usedToken: string | undefined;
    let settled = false;
    let watchdog: NodeJS.Timeout | undefined;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      if (watchdog) clearTimeout(watchdog);
      signal.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const armWatchdog = () => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        void upload.abort();
        finish(new TetherError('SERVER_UNREACHABLE', `the upload stalled: nothing moved for ${Math.round((options.stallMs ?? 60_000) / 1000)} s`));
      }, options.stallMs ?? 60_000);
      watchdog.unref();
    };

    const upload = new Upload({ path: options.path } as unknown as Buffer, {
      // the server creates the upload with the transfer: no endpoint, so a refused HEAD reports its own error
      uploadUrl: target.routeUrl('transfers.upload', { transferId: options.transferId }),
      uploadSize: options.size,
      // many chunks per PATCH: the server keeps whole chunks only (a cut request resumes at the
      // last whole one), and the bytes do not wait for a new request between chunks
      chunkSize: options.chunkSize * TRANSFER_PATCH_CHUNKS,
      retryDelays: null,
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: false,
      fingerprint: async () => `tether-transfer:${options.transferId}`,
      httpStack: new FileUploadStack({ agent: target.httpsAgent }),
      fileReader: { openFile: async () => fileSlices(options.path, options.size) },
      onBeforeRequest: async (req) => {
        usedToken = await target.currentToken();
        req.setHeader('Authorization', `Bearer ${usedToken}`);
        armWatchdog();
      },
      onProgress: (sent) => {
        armWatchdog();
        options.onProgress(sent);
      },
      onUploadUrlAvailable: () => {
        if (upload.url) options.onUrl(upload.url);
      },
      onSuccess: () => finish(),
      onError: (err) => {
        void describeTusError(err, target, usedToken).then(finish, finish);
      },
    });
    const onAbort = () => {
      void upload.abort();
      finish(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    upload.start();
  });
}

/** A tus failure as the server's own error (its JSON body), a network failure, or a protocol one. */
async function describeTusError(err: Error | DetailedError, target: TusTarget, usedToken: string | undefined): Promise<TetherError> {
  const detailed = err as Partial<DetailedError>;
  const response = detailed.originalResponse;
  if (response) {
    let body: unknown;
    try {
      body = JSON.parse(response.getBody());
    } catch {
      body = undefined;
    }
    const parsed = parseErrorBody(body);
    if (parsed?.error.code === 'TOKEN_EXPIRED' && usedToken) await target.renewExpired(usedToken);
    if (parsed) return new TetherError(parsed.error.code, parsed.error.message, parsed.error.details);
    const status = response.getStatus();
    // tus's own refusals: 409 offset mismatch (the next HEAD resyncs), 423 locked, 460 checksum
    if (status === 409 || status === 423) return new TetherError('CONFLICT', `the server answered ${status} to the upload; it resumes from the server's offset`);
    if (status >= 500) return new TetherError('SERVER_UNREACHABLE', `the server answered HTTP ${status} to the upload`);
    return new TetherError('VALIDATION_FAILED', `the server refused the upload (HTTP ${status})`);
  }
  const cause = detailed.causingError;
  if (cause) return target.networkError(cause as Error & { code?: string });
  return new TetherError('CONFLICT', err.message.replace(/^tus: /, ''));
}
