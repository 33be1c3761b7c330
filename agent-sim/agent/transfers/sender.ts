import { stat } from 'node:fs/promises';
import { Upload } from 'tus-js-client';
import { TetherError } from '#contract/errors';
import { fileSlices } from '#node-lib/file-slices';
import { TRANSFER_PATCH_CHUNKS, type TransferManifest } from '#contract/transfers';
import type { HandlerContext } from '../executor.ts';
import type { TransferDeps } from './deps.ts';
import { computeManifest } from './manifest.ts';

export interface SendParams {
  transferId: string;
  path: string;
}

/** Pauses between tus attempts: about two minutes in all, enough to ride out a server restart. */
const TUS_RETRY_DELAYS = [250, 500, 1000, 2000, 4000, ...Array.from({ length: 20 }, () => 5000)];

/**
 * `send-file`: declares a device file to the server (one read pass for the manifest:
 * size, whole SHA-256, one SHA-256 per chunk), then uploads it with tus,
 * `TRANSFER_PATCH_CHUNKS` chunks per PATCH. Run again after an interruption, it asks the server for its offset and goes on
 * from there; it reads the file again only if it changed (or was never declared).
 */
export async function sendFile(params: SendParams, context: HandlerContext, deps: TransferDeps): Promise<{ size: number; sha256: string }> {
  const { signal } = context;
  let transfer = await deps.client.get(params.transferId, signal);
  if (transfer.direction !== 'from-device' || transfer.devicePath !== params.path) {
    throw new TetherError('VALIDATION_FAILED', 'the command does not match its transfer (direction or path)');
  }
  if (transfer.state !== 'running') throw new TetherError('TRANSFER_NOT_ACTIVE', `the transfer is ${transfer.state}`);
  const { hostPath, size } = await deps.files.openForSend(params.path);
  const info = await stat(hostPath);
  const saved = await deps.state.load(params.transferId);
  let manifest = transfer.manifest;
  const unchanged = manifest && saved?.kind === 'send' && saved.sha256 === manifest.sha256 && saved.hostPath === hostPath
    && saved.size === info.size && saved.mtimeMs === info.mtimeMs && saved.ino === info.ino;
  if (!manifest || !unchanged) {
    context.log(`reading ${params.path} (${size} bytes) to declare it`);
    const computed = await computeManifest(hostPath, size, {
      chunkSize: transfer.chunkSize,
      signal,
      onProgress: (read) => context.progress(size ? Math.floor((read / size) * 100) : 100, 'checking the file'),
    });
    if (manifest && computed.sha256 !== manifest.sha256) {
      throw new TetherError('CHECKSUM_MISMATCH', `${params.path} changed on the device since this transfer started; start a new one`);
    }
    await deps.state.save({ kind: 'send', transferId: params.transferId, devicePath: params.path, hostPath, size, mtimeMs: info.mtimeMs, ino: info.ino, sha256: computed.sha256 });
    if (!manifest) transfer = await deps.client.declareManifest(params.transferId, computed, signal);
    manifest = computed;
  }
  deps.audit.append('transfer.start', 'ok', { transferId: params.transferId, direction: 'from-device', path: params.path, size: manifest.size, sha256: manifest.sha256, fromByte: transfer.uploadedBytes });
  if (transfer.uploadedBytes < manifest.size) {
    context.log(transfer.uploadedBytes ? `resuming the upload at byte ${transfer.uploadedBytes}` : `sending ${manifest.size} bytes`);
    await upload(params.transferId, hostPath, manifest, context, deps);
  }
  await deps.state.remove(params.transferId);
  deps.audit.append('transfer.sent', 'ok', { transferId: params.transferId, direction: 'from-device', path: params.path, size: manifest.size, sha256: manifest.sha256 });
  context.progress(100, 'sent');
  context.log(`${params.path}: ${manifest.size} bytes sent, SHA-256 ${manifest.sha256}`);
  return { size: manifest.size, sha256: manifest.sha256 };
}

/** The tus upload from the server's offset on; settles when the server holds every byte, fails, or the command aborts. */
function upload(transferId: string, hostPath: string, manifest: TransferManifest, context: HandlerContext, deps: TransferDeps): Promise<void> {
  const { signal } = context;
  signal.throwIfAborted();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      void upload.abort().finally(() => reject(signal.reason instanceof Error ? signal.reason : new TetherError('COMMAND_FAILED', 'aborted')));
    };
    const settle = (fn: () => void) => {
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const upload = new Upload({ path: hostPath } as unknown as Buffer, {
      uploadUrl: deps.client.uploadUrl(transferId),
      uploadSize: manifest.size,
      // many chunks per PATCH: the server keeps whole chunks only (a cut request resumes at the
      // last whole one), and the bytes do not wait for a new request between chunks (measured:
      // docs/benchmarks.md)
      chunkSize: manifest.chunkSize * TRANSFER_PATCH_CHUNKS,
      fileReader: { openFile: () => Promise.resolve(fileSlices(hostPath, manifest.size)) },
      httpStack: deps.client.tusHttpStack(),
      retryDelays: TUS_RETRY_DELAYS,
      storeFingerprintForResuming: false,
      onShouldRetry: (err) => {
        // away for a moment, or the offset moved on / the upload is locked by a request still draining: ask again
        return ['SERVER_UNREACHABLE', 'INTERNAL', 'RATE_LIMITED', 'PROXY_REFUSED', 'CONFLICT'].includes(deps.client.tusError(err).code);
      },
      onProgress: (sent, total) => context.progress(total ? Math.floor((sent / total) * 100) : 100, 'sending'),
      onSuccess: () => settle(resolve),
      onError: (err) => settle(() => reject(deps.client.tusError(err))),
    });
    signal.addEventListener('abort', onAbort, { once: true });
    upload.start();
  });
}
