import { copyFile, open, readFile, readdir, rm } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { TetherError } from '#contract/errors';
import { EncryptedSpoolStore, type UploadLedger, type UploadTarget } from '../../../server/transfers/spool-store.ts';
import { TransferSpool, newSpoolKey } from '../../../server/transfers/spool.ts';
import { ChunkHandoff } from '../../../server/transfers/handoff.ts';
import { tempDir } from '../../helpers/server.ts';

const CHUNK = 64 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** The transfer records, in memory: what the store asks and what it commits. */
class MemoryLedger implements UploadLedger {
  commits: { index: number; uploadedBytes: number }[] = [];
  constructor(public target: UploadTarget) {}
  uploadTarget(): Promise<UploadTarget> {
    return Promise.resolve(this.target);
  }
  commitChunk(_id: string, index: number, uploadedBytes: number): Promise<void> {
    this.commits.push({ index, uploadedBytes });
    this.target = { ...this.target, uploadedBytes };
    return Promise.resolve();
  }
}

function fileOf(size: number) {
  const bytes = randomBytes(size);
  const chunks: string[] = [];
  for (let at = 0; at < size; at += CHUNK) chunks.push(sha(bytes.subarray(at, at + CHUNK)));
  return { bytes, chunks };
}

/** Splits a buffer into the small pieces a network delivers. */
function pieces(bytes: Buffer, size = 16 * 1024): Readable {
  return Readable.from((function* () {
    for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
  })());
}

describe('the encrypted transfer spool', () => {
  const dirs: string[] = [];
  const spool = () => {
    const dir = tempDir('tether-spool-');
    dirs.push(dir);
    return new TransferSpool(dir);
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('keeps chunks encrypted at rest and gives them back whole', async () => {
    const s = spool();
    const key = newSpoolKey();
    const plain = randomBytes(CHUNK);
    const writer = await s.openChunk('t1', 0, key);
    await writer.write(plain.subarray(0, 1000));
    await writer.write(plain.subarray(1000));
    await writer.seal(sha(plain), 0);
    const sealed = await readFile(s.chunkPath('t1', 0));
    expect(sealed.includes(plain.subarray(0, 32))).toBe(false);
    const { length, stream } = await s.streamChunk('t1', 0, key, () => undefined);
    expect(length).toBe(CHUNK);
    expect((await collect(stream)).equals(plain)).toBe(true);
  });

  it('keeps nothing of a chunk that does not match its declared hash', async () => {
    const s = spool();
    const writer = await s.openChunk('t2', 0, newSpoolKey());
    await writer.write(randomBytes(100));
    await expect(writer.seal('0'.repeat(64), 0)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(await readdir(s.dirOf('t2'))).toEqual([]);
  });

  it('reports a tampered or swapped chunk as damaged, never handing on its last bytes', async () => {
    const s = spool();
    const key = newSpoolKey();
    for (const index of [0, 1]) {
      const plain = randomBytes(CHUNK * 3);
      const writer = await s.openChunk('t3', index, key);
      await writer.write(plain);
      await writer.seal(sha(plain), index);
    }
    // flip one ciphertext byte (writing a fixed byte would leave it unchanged 1 time in 256)
    const file = await open(s.chunkPath('t3', 0), 'r+');
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, 500);
    byte[0] = byte[0]! ^ 0xff;
    await file.write(byte, 0, 1, 500);
    await file.close();
    const damaged: TetherError[] = [];
    const tampered = await s.streamChunk('t3', 0, key, (err) => damaged.push(err));
    const received: Buffer[] = [];
    await expect((async () => {
      for await (const part of tampered.stream) received.push(part as Buffer);
    })()).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(Buffer.concat(received).length).toBeLessThan(CHUNK * 3);
    expect(damaged.map((e) => e.code)).toEqual(['CHECKSUM_MISMATCH']);

    // chunk 1's file put in chunk 0's place: authenticated with its own index, so refused
    await copyFile(s.chunkPath('t3', 1), s.chunkPath('t3', 0));
    const swapped = await s.streamChunk('t3', 0, key, () => undefined);
    await expect(collect(swapped.stream)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    await expect(s.streamChunk('t3', 7, key, () => undefined)).rejects.toMatchObject({ code: 'CHUNK_NOT_READY' });
  });

  it('purges a transfer’s folder and drops acknowledged chunks', async () => {
    const s = spool();
    const key = newSpoolKey();
    for (const index of [0, 1, 2]) {
      const plain = randomBytes(10);
      const writer = await s.openChunk('t4', index, key);
      await writer.write(plain);
      await writer.seal(sha(plain), index);
    }
    await s.dropChunks('t4', 0, 2);
    expect(await readdir(s.dirOf('t4'))).toEqual(['2.chunk']);
    await s.purge('t4');
    await expect(readdir(s.dirOf('t4'))).rejects.toThrow();
  });
});

describe('the tus store over the spool', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const setup = (size: number) => {
    const dir = tempDir('tether-store-');
    dirs.push(dir);
    const file = fileOf(size);
    const ledger = new MemoryLedger({ size, chunkSize: CHUNK, chunks: file.chunks, key: newSpoolKey(), uploadedBytes: 0, createdAt: Date.now() });
    const spool = new TransferSpool(dir);
    return { file, ledger, spool, store: new EncryptedSpoolStore(spool, ledger) };
  };

  it('commits whole chunks only: a PATCH cut short leaves the offset at the last whole chunk', async () => {
    const { file, ledger, spool, store } = setup(3 * CHUNK + 10);
    const offset = await store.write(pieces(file.bytes.subarray(0, 2 * CHUNK + 500)), 't5', 0);
    expect(offset).toBe(2 * CHUNK);
    expect(ledger.commits).toEqual([{ index: 0, uploadedBytes: CHUNK }, { index: 1, uploadedBytes: 2 * CHUNK }]);
    expect((await readdir(spool.dirOf('t5'))).sort()).toEqual(['0.chunk', '1.chunk']);
    expect((await store.getUpload('t5')).offset).toBe(2 * CHUNK);
    // the client resumes from there
    expect(await store.write(pieces(file.bytes.subarray(2 * CHUNK)), 't5', 2 * CHUNK)).toBe(3 * CHUNK + 10);
    const last = await spool.streamChunk('t5', 3, ledger.target.key, () => undefined);
    expect((await collect(last.stream)).equals(file.bytes.subarray(3 * CHUNK))).toBe(true);
  });

  it('refuses a chunk failing its hash, more bytes than declared, and a wrong offset', async () => {
    const { file, ledger, store } = setup(2 * CHUNK);
    ledger.target = { ...ledger.target, chunks: [ledger.target.chunks[0]!, 'e'.repeat(64)] };
    await expect(store.write(pieces(file.bytes), 't6', 0)).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    expect(ledger.commits).toEqual([{ index: 0, uploadedBytes: CHUNK }]);
    await expect(store.write(pieces(file.bytes), 't6', 0)).rejects.toMatchObject({ code: 'CONFLICT' });

    const other = setup(CHUNK);
    await expect(other.store.write(pieces(Buffer.concat([other.file.bytes, Buffer.alloc(5)])), 't7', 0)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(other.ledger.commits).toEqual([{ index: 0, uploadedBytes: CHUNK }]);
    await expect(other.store.create()).rejects.toBeInstanceOf(TetherError);
  });

  it('tells a receiver asking for a live chunk to ask again when the sender stops before the chunk is whole', async () => {
    const dir = tempDir('tether-store-');
    dirs.push(dir);
    const file = fileOf(2 * CHUNK);
    const ledger = new MemoryLedger({ size: file.bytes.length, chunkSize: CHUNK, chunks: file.chunks, key: newSpoolKey(), uploadedBytes: 0, createdAt: Date.now() });
    const handoff = new ChunkHandoff();
    const store = new EncryptedSpoolStore(new TransferSpool(dir), ledger, handoff);
    const asked = handoff.ask('t8', 0, 5_000, new AbortController().signal);
    // half a chunk, then the sender's connection breaks (its agent was killed)
    const cut = new PassThrough();
    const writing = store.write(cut, 't8', 0);
    cut.write(file.bytes.subarray(0, CHUNK / 2));
    const live = (await asked)!;
    expect(live).toBeDefined();
    setTimeout(() => cut.destroy(new Error('aborted')), 20);
    await expect(writing).rejects.toThrow('aborted');
    await expect(collect(live)).rejects.toMatchObject({ code: 'CHUNK_NOT_READY' });
    expect(ledger.commits).toEqual([]);
  });
});
