import type { Readable } from 'node:stream';
import { DataStore, Upload } from '@tus/server';
import { TetherError } from '../../src/shared/errors.ts';
import { chunkRange } from '../../src/shared/transfers.ts';
import type { ChunkWriter, TransferSpool } from './spool.ts';

/** What an upload may write to: the declared manifest, the key, and how far it got. */
export interface UploadTarget {
  size: number;
  chunkSize: number;
  chunks: readonly string[];
  key: string;
  uploadedBytes: number;
  createdAt: number;
}

/** The transfer records behind the store (the transfer service). */
export interface UploadLedger {
  /** The upload of a running transfer with a manifest; TetherError otherwise. */
  uploadTarget(transferId: string): Promise<UploadTarget>;
  /** Records that chunk `index` is held, moving the offset to `uploadedBytes`. */
  commitChunk(transferId: string, index: number, uploadedBytes: number): Promise<void>;
}

/**
 * The tus data store of transfers: an upload is a transfer (upload id = transfer id,
 * created with its manifest, never by tus POST), and its bytes land in the encrypted
 * spool chunk by chunk. Each chunk is checked against the manifest before it counts, and
 * only whole chunks count: a PATCH cut short leaves the offset at the last whole chunk,
 * which tus clients resume from.
 */
export class EncryptedSpoolStore extends DataStore {
  constructor(
    private readonly spool: TransferSpool,
    private readonly ledger: UploadLedger,
  ) {
    super();
    this.extensions = [];
  }

  override create(): Promise<Upload> {
    return Promise.reject(new TetherError('METHOD_NOT_ALLOWED', 'uploads are created with their transfer; PATCH /uploads/<transferId> from its offset'));
  }

  override remove(): Promise<void> {
    return Promise.reject(new TetherError('METHOD_NOT_ALLOWED', 'cancel the transfer instead of deleting its upload'));
  }

  override async getUpload(id: string): Promise<Upload> {
    const target = await this.ledger.uploadTarget(id);
    return new Upload({ id, size: target.size, offset: target.uploadedBytes, creation_date: new Date(target.createdAt).toISOString() });
  }

  override async write(stream: Readable, id: string, offset: number): Promise<number> {
    const target = await this.ledger.uploadTarget(id);
    if (offset !== target.uploadedBytes || (offset % target.chunkSize !== 0 && offset !== target.size)) {
      throw new TetherError('CONFLICT', `the upload continues at byte ${target.uploadedBytes}`);
    }
    let uploaded = offset;
    let index = offset / target.chunkSize;
    let writer: ChunkWriter | undefined;
    try {
      for await (const data of stream as AsyncIterable<Buffer>) {
        let rest = data;
        while (rest.length > 0) {
          if (uploaded >= target.size) throw new TetherError('PAYLOAD_TOO_LARGE', 'more bytes than the manifest declared');
          const { end } = chunkRange(index, target.size, target.chunkSize);
          writer ??= await this.spool.openChunk(id, index, target.key);
          const piece = rest.subarray(0, end - uploaded - writer.bytes);
          rest = rest.subarray(piece.length);
          await writer.write(piece);
          if (uploaded + writer.bytes === end) {
            const sealing = writer;
            writer = undefined;
            await sealing.seal(target.chunks[index]!, index);
            uploaded = end;
            await this.ledger.commitChunk(id, index, uploaded);
            index += 1;
          }
        }
      }
    } finally {
      // a chunk that did not arrive whole is dropped: the client sends it again from its start
      await writer?.discard();
    }
    return uploaded;
  }
}
