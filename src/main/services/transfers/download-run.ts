import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TransferAck } from '#contract/api/transfers';
import { TetherError } from '#contract/errors';
import { TRANSFER_HEADERS } from '#contract/protocol/transfers';
import { type CheckedChunk, receiveInOrder } from '#node-lib/receive-in-order';
import { PARTIAL_SUFFIX, type TransferManifest, chunkRange, chunksWithin } from '#contract/transfers';
import { PartialDownload, commitDownload, removeIfPresent } from './local-files.ts';
import type { TransferRun } from './transfer-run.ts';

const SAVE_EVERY_MS = 1000;

/** Times a chunk may fail its check before the transfer fails (each time it is fetched again). */
const CHUNK_ATTEMPTS = 3;


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

  const ack = (body: TransferAck) => link.api.call('transfers.ack', { transferId: id }, body);

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
    // what the server will drop now: chunks it counts as sent. A chunk passed straight through
    // and stored here whose acknowledgement a pause or a server restart cut off is not among
    // them; the server gets there again (spooling, as nobody asks for it) and hears of it then
    const held = Math.min(partial.chunksVerified, chunksWithin(detail.uploadedBytes, manifest.size, manifest.chunkSize));
    if (held > 0) await ack({ verifiedChunks: held });
    run.stage('downloading');
    await receiveChunks(run, id, manifest, partial, ack);
    run.stage('verifying');
    if ((await partial.wholeDigest()) !== manifest.sha256) {
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
  const total = manifest.chunks.length;
  // bytes of the chunks on their way, for the bar's "moved" part
  const arriving = new Map<number, number>();
  const showMoved = () => run.moved(partial.bytesVerified + [...arriving.values()].reduce((a, b) => a + b, 0));
  let lastSaved = 0;
  await receiveInOrder({
    from: partial.chunksVerified,
    total,
    chunkSize: manifest.chunkSize,
    attempts: CHUNK_ATTEMPTS,
    fetch: async (index, into, on) => {
      arriving.set(index, 0);
      const fetched = await fetchChunk(run, id, manifest, index, into, {
        ...on,
        onBytes: (n) => {
          arriving.set(index, (arriving.get(index) ?? 0) + n);
          showMoved();
        },
      });
      if (!fetched) {
        arriving.delete(index);
        showMoved();
      }
      return fetched;
    },
    store: async (index, chunk) => {
      if (!(await partial.storeChunk(chunk.bytes, chunk.sha256))) throw new TetherError('INTERNAL', `chunk ${index + 1} changed between its check and its storing`);
      arriving.delete(index);
      run.verified(partial.bytesVerified);
      run.progressed();
    },
    confirm: async (upTo) => {
      await partial.sync();
      // the count on disk is a hint for the list (the partial file proves itself on resume): saved about once a second
      const now = Date.now();
      const persist = now - lastSaved >= SAVE_EVERY_MS || upTo === total;
      if (persist) lastSaved = now;
      run.update({ verifiedChunks: upTo }, persist);
      await ack({ verifiedChunks: upTo });
    },
    tooManyFailures: (index) => new TetherError('CHECKSUM_MISMATCH', `chunk ${index + 1} of ${total} failed its check ${CHUNK_ATTEMPTS} times`),
  });
}

/**
 * One chunk, fetched into `into` and checked against the manifest: its bytes, or false when
 * they do not match (fetched again by the caller). A chunk still on its way at the sender is
 * asked for again after a breath (the server waited already).
 */
async function fetchChunk(
  run: TransferRun,
  id: string,
  manifest: TransferManifest,
  index: number,
  into: Buffer,
  on: { next: () => boolean; arriving: () => void; onBytes: (n: number) => void },
): Promise<CheckedChunk | false> {
  const { start, end } = chunkRange(index, manifest.size, manifest.chunkSize);
  for (;;) {
    run.signal.throwIfAborted();
    let response;
    try {
      response = await run.link.openStream(run.link.api.path('transfers.content', { transferId: id }), { range: `bytes=${start}-${end - 1}` }, run.signal);
    } catch (err) {
      if (err instanceof TetherError && err.code === 'CHUNK_NOT_READY') {
        // a chunk asked for ahead of time waits quietly: only the one needed next shows the wait
        if (on.next()) run.stage('waiting');
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
    on.arriving();
    let length = 0;
    try {
      for await (const data of response.body as AsyncIterable<Buffer>) {
        if (length + data.length > end - start) {
          response.body.destroy();
          return false;
        }
        data.copy(into, length);
        length += data.length;
        on.onBytes(data.length);
      }
    } catch (err) {
      // the link broke mid-chunk: a network failure, retried
      if (run.signal.aborted || err instanceof TetherError || !(err as NodeJS.ErrnoException).code) throw err;
      throw run.link.networkError(err as Error & { code?: string });
    }
    const bytes = into.subarray(0, length);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return length === end - start && sha256 === manifest.chunks[index] ? { bytes, sha256 } : false;
  }
}
