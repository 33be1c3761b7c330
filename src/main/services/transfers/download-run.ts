import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { TransferAck } from '../../../shared/api/transfers.ts';
import { TetherError } from '../../../shared/errors.ts';
import { TRANSFER_HEADERS } from '../../../shared/protocol/transfers.ts';
import { PARTIAL_SUFFIX, type TransferManifest, chunkRange } from '../../../shared/transfers.ts';
import { PartialDownload, commitDownload, removeIfPresent } from './local-files.ts';
import type { TransferRun } from './transfer-run.ts';

const SAVE_EVERY_MS = 1000;

/** Times a chunk may fail its check before the transfer fails (each time it is fetched again). */
const CHUNK_ATTEMPTS = 3;

const enc = encodeURIComponent;

/**
 * Receives a device's file (from-device): waits for the device to declare it, fetches it
 * chunk by chunk with Range requests, checks every chunk against the manifest before it
 * counts, appends it to `<destination>.tether-part` (synced), records and acknowledges
 * the count, and once the whole file's hash matches gives it its final name — never over
 * an existing file — and tells the server it is complete. Continues after any stop from
 * the last verified chunk.
 */
export async function runDownload(run: TransferRun): Promise<void> {
  const { link, signal } = run;
  const id = run.record.transferId;
  const destination = run.record.destination;
  if (!id || !destination) throw new TetherError('INTERNAL', 'a download needs its server id and destination');

  let detail = await run.fetch();
  if (!detail.manifest) {
    run.stage('waiting');
    await run.waitForServer((view) => view.sha256 !== null);
    detail = await run.fetch();
  }
  const manifest = detail.manifest;
  if (!manifest) throw new TetherError('CONFLICT', 'the device has not declared the file yet');
  run.update({ size: manifest.size, sha256: manifest.sha256, chunkSize: manifest.chunkSize });

  const ack = (body: TransferAck) => link.call('POST', `/transfers/${enc(id)}/ack`, z.unknown(), body);

  // stopped after the final name was given but before the server heard: only the ack is missing
  if (run.record.finalPath) {
    run.stage('verifying');
    await ack({ verifiedChunks: manifest.chunks.length, complete: true, sha256: manifest.sha256 });
    run.verified(manifest.size);
    run.update({ state: 'completed', completedAt: new Date().toISOString(), error: null }, true);
    return;
  }

  const partialPath = destination + PARTIAL_SUFFIX;
  const partial = await PartialDownload.open(partialPath, manifest);
  try {
    if (partial.chunksVerified !== run.record.verifiedChunks) run.update({ verifiedChunks: partial.chunksVerified }, true);
    run.verified(partial.bytesVerified);
    run.moved(partial.bytesVerified);
    if (partial.chunksVerified > 0) await ack({ verifiedChunks: partial.chunksVerified });
    run.stage('downloading');
    await receiveChunks(run, id, manifest, partial, ack);
    run.stage('verifying');
    if (partial.wholeDigest() !== manifest.sha256) {
      await partial.close();
      await removeIfPresent(partialPath);
      run.update({ verifiedChunks: 0 }, true);
      throw new TetherError('CHECKSUM_MISMATCH', 'every chunk matched but the whole file does not: it was started over');
    }
  } finally {
    await partial.close().catch(() => undefined);
  }
  signal.throwIfAborted();
  const finalPath = await commitDownload(partialPath, destination);
  run.update({ finalPath }, true);
  await ack({ verifiedChunks: manifest.chunks.length, complete: true, sha256: manifest.sha256 });
  run.update({ state: 'completed', completedAt: new Date().toISOString(), error: null }, true);
}

async function receiveChunks(
  run: TransferRun,
  id: string,
  manifest: TransferManifest,
  partial: PartialDownload,
  ack: (body: TransferAck) => Promise<unknown>,
): Promise<void> {
  let failedChecks = 0;
  let lastSaved = 0;
  while (!partial.complete) {
    run.signal.throwIfAborted();
    const index = partial.chunksVerified;
    const { start, end } = chunkRange(index, manifest.size, manifest.chunkSize);
    let response;
    try {
      response = await run.link.openStream(`/transfers/${enc(id)}/content`, { range: `bytes=${start}-${end - 1}` }, run.signal);
    } catch (err) {
      // the device is still sending it: the server waited already; ask again after a breath
      if (err instanceof TetherError && err.code === 'CHUNK_NOT_READY') {
        run.stage('waiting');
        await sleep(500, undefined, { signal: run.signal });
        continue;
      }
      throw err;
    }
    run.stage('downloading');
    const servedIndex = response.headers[TRANSFER_HEADERS.chunkIndex];
    const servedHash = response.headers[TRANSFER_HEADERS.chunkSha256];
    if ((servedIndex !== undefined && Number(servedIndex) !== index) || (servedHash !== undefined && servedHash !== manifest.chunks[index])) {
      response.body.destroy();
      throw new TetherError('CONFLICT', `the server sent chunk ${String(servedIndex)} for chunk ${index}`);
    }
    const before = partial.bytesVerified;
    let received = 0;
    let ok: boolean;
    try {
      ok = await partial.receiveChunk(response.body, (n) => {
        received += n;
        run.moved(before + received);
      });
    } catch (err) {
      // the link broke mid-chunk (the chunk was cut off again): a network failure, retried
      if (run.signal.aborted || err instanceof TetherError || !(err as NodeJS.ErrnoException).code) throw err;
      throw run.link.networkError(err as Error & { code?: string });
    }
    if (!ok) {
      failedChecks += 1;
      run.moved(before);
      if (failedChecks >= CHUNK_ATTEMPTS) {
        throw new TetherError('CHECKSUM_MISMATCH', `chunk ${index + 1} of ${manifest.chunks.length} failed its check ${CHUNK_ATTEMPTS} times`);
      }
      continue;
    }
    failedChecks = 0;
    // the count on disk is a hint for the list (the partial file proves itself on resume): saved about once a second
    const now = Date.now();
    const persist = now - lastSaved >= SAVE_EVERY_MS || partial.complete;
    if (persist) lastSaved = now;
    run.update({ verifiedChunks: partial.chunksVerified }, persist);
    run.verified(partial.bytesVerified);
    await ack({ verifiedChunks: partial.chunksVerified });
    run.progressed();
  }
}
