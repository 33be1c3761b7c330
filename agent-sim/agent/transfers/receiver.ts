import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open, stat, unlink } from 'node:fs/promises';
import { TetherError } from '#contract/errors';
import { type CheckedChunk, receiveInOrder } from '#node-lib/receive-in-order';
import type { AgentTransfer } from '#contract/protocol/transfers';
import { chunkCount, chunkRange, chunksWithin, type TransferManifest } from '#contract/transfers';
import type { HandlerContext } from '../executor.ts';
import type { TransferDeps } from './deps.ts';
import type { ReceiveState } from './transfer-state.ts';

/** Times one chunk is fetched again after failing its hash, before the transfer fails. */
const CHUNK_ATTEMPTS = 3;

export interface ReceiveParams {
  transferId: string;
  path: string;
  overwrite: boolean;
}

/**
 * `receive-file`: downloads a transfer chunk by chunk (HTTP Range), verifies each chunk
 * against the manifest, writes it to `<final>.tether-part`; beside that it syncs what was
 * written, records the progress durably, then acknowledges it (the server deletes what was
 * acknowledged). At
 * the end the whole file is verified, renamed to its final name and acknowledged. A
 * resumed command (after a pause, a restart, a lost connection) continues from the last
 * verified chunk. Nothing appears under the final name unless it verified whole.
 */
export async function receiveFile(params: ReceiveParams, context: HandlerContext, deps: TransferDeps): Promise<{ size: number; sha256: string; path: string }> {
  const { signal } = context;
  const transfer = await deps.client.get(params.transferId, signal);
  if (transfer.direction !== 'to-device' || transfer.devicePath !== params.path) {
    throw new TetherError('VALIDATION_FAILED', 'the command does not match its transfer (direction or path)');
  }
  if (transfer.state !== 'running') throw new TetherError('TRANSFER_NOT_ACTIVE', `the transfer is ${transfer.state}`);
  const manifest = transfer.manifest;
  if (!manifest) throw new TetherError('CONFLICT', 'the transfer declares no file');
  const loaded = await deps.state.load(params.transferId);
  let state: ReceiveState | undefined = loaded?.kind === 'receive' && loaded.sha256 === manifest.sha256 && loaded.size === manifest.size && loaded.devicePath === params.path ? loaded : undefined;

  if (!state || state.phase === 'receiving') {
    const target = await deps.files.prepareReceive(params.path, manifest.size, params.overwrite);
    state = {
      kind: 'receive',
      transferId: params.transferId,
      devicePath: params.path,
      size: manifest.size,
      sha256: manifest.sha256,
      chunkSize: manifest.chunkSize,
      hostPath: target.hostPath,
      partialPath: target.partialPath,
      verifiedChunks: state?.partialPath === target.partialPath ? state.verifiedChunks : 0,
      phase: 'receiving',
    };
    deps.audit.append('transfer.start', 'ok', { transferId: params.transferId, direction: 'to-device', path: params.path, size: manifest.size, sha256: manifest.sha256, fromChunk: state.verifiedChunks });
    state = await receiveChunks(state, manifest, context, deps, transfer);
  }
  if (state.phase === 'verified') {
    if (await exists(state.partialPath)) {
      await deps.files.commitReceive(state.partialPath, state.hostPath, params.overwrite);
    } else if (!(await exists(state.hostPath)) || (await stat(state.hostPath)).size !== manifest.size) {
      // neither the partial file nor the final one: the verified file is gone, start over
      await deps.state.remove(params.transferId);
      throw new TetherError('FILE_NOT_FOUND', 'the verified file disappeared before it was put in place; the transfer starts over');
    }
    state = { ...state, phase: 'committed' };
    await deps.state.save(state);
  }
  await deps.client.ack(params.transferId, { verifiedChunks: manifest.chunks.length, complete: true, sha256: manifest.sha256 }, signal);
  await deps.state.remove(params.transferId);
  deps.audit.append('transfer.complete', 'ok', { transferId: params.transferId, direction: 'to-device', path: params.path, size: manifest.size, sha256: manifest.sha256 });
  context.progress(100, 'received and verified');
  context.log(`${params.path}: ${manifest.size} bytes received, SHA-256 ${manifest.sha256} verified`);
  return { size: manifest.size, sha256: manifest.sha256, path: params.path };
}

/** Fetches, verifies, writes and syncs every chunk from the saved position on; checks the whole file. */
async function receiveChunks(
  start: ReceiveState,
  manifest: TransferManifest,
  context: HandlerContext,
  deps: TransferDeps,
  server: Pick<AgentTransfer, 'uploadedBytes' | 'deliveredBytes'>,
): Promise<ReceiveState> {
  const { signal } = context;
  const total = chunkCount(manifest.size, manifest.chunkSize);
  let state = start;
  const whole = createHash('sha256');
  let file: FileHandle;
  if (state.verifiedChunks > 0 && (await exists(state.partialPath))) {
    file = await open(state.partialPath, 'r+');
    const kept = chunkRange(state.verifiedChunks - 1, manifest.size, manifest.chunkSize).end;
    try {
      if ((await file.stat()).size < kept) {
        throw new TetherError('CONFLICT', `the partial file ${state.partialPath} is shorter than its recorded progress; cancel and start the transfer again`);
      }
      // bytes past the verified prefix were written by a run that died before recording them
      await file.truncate(kept);
      await hashPrefix(file, kept, whole, signal);
    } catch (err) {
      await file.close(); // an abort while re-reading the prefix must not leak the handle
      throw err;
    }
    context.log(`resuming at chunk ${state.verifiedChunks + 1} of ${total}`);
  } else {
    state = { ...state, verifiedChunks: 0 };
    // recorded before the partial file exists, so a cancel always knows what to delete
    await deps.state.save(state);
    file = await open(state.partialPath, 'w', 0o600);
    context.log(`receiving ${manifest.size} bytes (${total} chunk${total === 1 ? '' : 's'}) for ${state.devicePath}`);
  }
  try {
    // the server may not have heard the last acknowledgement before an interruption. It drops
    // only chunks it counts as sent: one that went straight through and was stored here, whose
    // acknowledgement a server restart cut off, comes again from the sender (spooled, as nobody
    // asks for it) and is acknowledged with the next chunk fetched
    const held = Math.min(state.verifiedChunks, chunksWithin(server.uploadedBytes, manifest.size, manifest.chunkSize));
    if (held > 0 && server.deliveredBytes < chunkRange(held - 1, manifest.size, manifest.chunkSize).end) {
      await deps.client.ack(state.transferId, { verifiedChunks: held }, signal);
    }
    await receiveInOrder({
      from: state.verifiedChunks,
      total,
      chunkSize: manifest.chunkSize,
      attempts: CHUNK_ATTEMPTS,
      fetch: (index, into, on) => fetchChecked(index, manifest, into, context, deps, state.transferId, on),
      store: async (index, { bytes }) => {
        await file.write(bytes, 0, bytes.length, chunkRange(index, manifest.size, manifest.chunkSize).start);
        whole.update(bytes);
      },
      confirm: async (upTo) => {
        await file.datasync();
        state = { ...state, verifiedChunks: upTo };
        await deps.state.save(state);
        await deps.client.ack(state.transferId, { verifiedChunks: upTo }, signal);
        context.progress(Math.floor((upTo / total) * 100), 'receiving');
      },
      rejected: (index, attempt) => {
        deps.audit.append('transfer.chunk-rejected', 'failed', { transferId: state.transferId, chunk: index, attempt });
        context.log(`chunk ${index + 1} failed its SHA-256 check (attempt ${attempt} of ${CHUNK_ATTEMPTS})`);
      },
      tooManyFailures: (index) => new TetherError('CHECKSUM_MISMATCH', `chunk ${index + 1} failed its SHA-256 check ${CHUNK_ATTEMPTS} times; nothing of it was kept`, { chunk: index }),
    });
    await file.datasync();
  } finally {
    await file.close();
  }
  const sha256 = whole.digest('hex');
  if (sha256 !== manifest.sha256) {
    await removeIfPresent(state.partialPath);
    await deps.state.remove(state.transferId);
    throw new TetherError('CHECKSUM_MISMATCH', `every chunk verified but the whole file hashes to ${sha256}, not the declared ${manifest.sha256}; the partial file was deleted`);
  }
  state = { ...state, phase: 'verified' };
  await deps.state.save(state);
  return state;
}

/** One chunk fetched into `into`: checked against its hash in the manifest, or false when it does not match. */
async function fetchChecked(
  index: number,
  manifest: TransferManifest,
  into: Buffer,
  context: HandlerContext,
  deps: TransferDeps,
  transferId: string,
  on: { arriving: () => void; next: () => boolean },
): Promise<CheckedChunk | false> {
  const { start, end } = chunkRange(index, manifest.size, manifest.chunkSize);
  const { length, sha256 } = await deps.client.chunk(transferId, index, manifest, into, context.signal, {
    // a chunk asked for ahead of time waits quietly: only the one needed next shows the wait
    waiting: () => {
      if (on.next()) context.progress(Math.floor((index / Math.max(1, manifest.chunks.length)) * 100), 'waiting for the sender');
    },
    arriving: on.arriving,
  });
  return length === end - start && sha256 === manifest.chunks[index] ? { bytes: into.subarray(0, length), sha256 } : false;
}

async function hashPrefix(file: FileHandle, length: number, hash: Hash, signal: AbortSignal): Promise<void> {
  const buffer = Buffer.alloc(1024 * 1024);
  for (let at = 0; at < length; ) {
    signal.throwIfAborted();
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, length - at), at);
    if (bytesRead === 0) throw new TetherError('CONFLICT', 'the partial file shrank while it was being read');
    hash.update(buffer.subarray(0, bytesRead));
    at += bytesRead;
  }
}

/** Deletes a file that may already be gone. */
export async function removeIfPresent(path: string): Promise<boolean> {
  return unlink(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}
