import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { PartialDownload, commitDownload, freeDestination, numberedName, safeFileName } from '../../../../src/main/services/transfers/local-files.ts';
import { PARTIAL_SUFFIX, type TransferManifest } from '#contract/transfers';

const CHUNK = 64 * 1024;
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const folder = () => mkdtempSync(join(tmpdir(), 'tether-local-files-'));

/** Random content and its manifest (64 KiB chunks). */
function content(size: number): { data: Buffer; manifest: TransferManifest } {
  const data = randomBytes(size);
  const chunks: string[] = [];
  for (let start = 0; start < size; start += CHUNK) chunks.push(sha(data.subarray(start, start + CHUNK)));
  return { data, manifest: { size, sha256: sha(data), chunkSize: CHUNK, chunks } };
}

const chunkOf = (data: Buffer, index: number) => data.subarray(index * CHUNK, (index + 1) * CHUNK);

describe('names of downloaded files', () => {
  it('numbers a taken name before its extension, like browsers do', () => {
    expect(numberedName('system.log', 0)).toBe('system.log');
    expect(numberedName('system.log', 1)).toBe('system (1).log');
    expect(numberedName('bundle.tar.gz', 2)).toBe('bundle.tar (2).gz');
    expect(numberedName('README', 3)).toBe('README (3)');
    expect(numberedName('.profile', 1)).toBe('.profile (1)');
  });

  it('picks a destination whose name and partial name are both free, and not held by another transfer', () => {
    const dir = folder();
    writeFileSync(join(dir, 'system.log'), 'old');
    writeFileSync(join(dir, `system (1).log${PARTIAL_SUFFIX}`), 'half');
    const reserved = new Set([join(dir, 'system (2).log')]);
    expect(freeDestination(dir, 'system.log', reserved)).toBe(join(dir, 'system (3).log'));
    expect(freeDestination(dir, 'other.log')).toBe(join(dir, 'other.log'));
  });

  it('makes a device name safe to create here: no folders, no control characters, never "." or ".."', () => {
    expect(safeFileName('a/b\\c.log')).toBe('a_b_c.log');
    expect(safeFileName('bad\u0000\u001fname.txt')).toBe('bad__name.txt');
    expect(safeFileName('..')).toBe('_');
    expect(safeFileName('')).toBe('file');
  });
});

describe('a partial download', () => {
  it('writes verified chunks, synced on demand (one sync for all written before it), and ends with the whole file hash', async () => {
    const { data, manifest } = content(3 * CHUNK + 500);
    const path = join(folder(), `x${PARTIAL_SUFFIX}`);
    const partial = await PartialDownload.open(path, manifest);
    // the partial file's handle is private: count the syncs on every file handle while it is in use
    const probe = await open(path, 'r');
    const datasync = vi.spyOn(Object.getPrototypeOf(probe) as { datasync(): Promise<void> }, 'datasync');
    await probe.close();
    try {
      for (let i = 0; i < 2; i++) expect(await partial.storeChunk(chunkOf(data, i), sha(chunkOf(data, i)))).toBe(true);
      expect(partial.chunksVerified).toBe(2);
      expect(datasync).not.toHaveBeenCalled(); // written, not yet synced
      await partial.sync();
      expect(datasync).toHaveBeenCalledTimes(1); // one sync for both
      await partial.sync();
      expect(datasync).toHaveBeenCalledTimes(1); // nothing new since
      for (let i = 2; i < 4; i++) expect(await partial.storeChunk(chunkOf(data, i), sha(chunkOf(data, i)))).toBe(true);
      await partial.sync();
      expect(datasync).toHaveBeenCalledTimes(2);
    } finally {
      datasync.mockRestore();
    }
    expect(partial.chunksVerified).toBe(manifest.chunks.length);
    expect(partial.bytesVerified).toBe(data.length);
    expect(await partial.wholeDigest()).toBe(manifest.sha256);
    await partial.close();
    expect(readFileSync(path).equals(data)).toBe(true);
  });

  it('refuses a chunk that fails its hash or has the wrong length, writing nothing of it', async () => {
    const { data, manifest } = content(2 * CHUNK);
    const path = join(folder(), `x${PARTIAL_SUFFIX}`);
    const partial = await PartialDownload.open(path, manifest);
    expect(await partial.storeChunk(chunkOf(data, 0), sha(chunkOf(data, 0)))).toBe(true);
    const flipped = Buffer.from(chunkOf(data, 1));
    flipped[100] = flipped[100]! ^ 0xff;
    expect(await partial.storeChunk(flipped, sha(flipped))).toBe(false);
    expect(statSync(path).size).toBe(CHUNK);
    const long = Buffer.concat([chunkOf(data, 1), Buffer.from('extra')]);
    expect(await partial.storeChunk(long, sha(long))).toBe(false);
    // the right hash with the wrong length is refused too
    expect(await partial.storeChunk(chunkOf(data, 1).subarray(0, 10), manifest.chunks[1]!)).toBe(false);
    expect(partial.chunksVerified).toBe(1);
    expect(statSync(path).size).toBe(CHUNK);
    // the right bytes still go in after refusals
    expect(await partial.storeChunk(chunkOf(data, 1), sha(chunkOf(data, 1)))).toBe(true);
    expect(await partial.wholeDigest()).toBe(manifest.sha256);
    await partial.close();
  });

  it('resumes from what the file proves: every whole chunk matching its hash counts, a torn one is cut off', async () => {
    const { data, manifest } = content(4 * CHUNK + 7);
    const path = join(folder(), `x${PARTIAL_SUFFIX}`);
    // a crash in the middle of chunk 3: 2 whole chunks on disk, then half of the third
    writeFileSync(path, data.subarray(0, 2 * CHUNK + CHUNK / 2));
    const partial = await PartialDownload.open(path, manifest);
    expect(partial.chunksVerified).toBe(2);
    expect(statSync(path).size).toBe(2 * CHUNK);
    for (let i = 2; i < 5; i++) expect(await partial.storeChunk(chunkOf(data, i), sha(chunkOf(data, i)))).toBe(true);
    expect(await partial.wholeDigest()).toBe(manifest.sha256);
    await partial.close();
    expect(readFileSync(path).equals(data)).toBe(true);
  });

  it('counts chunks written after the last saved count: the file is the record', async () => {
    const { data, manifest } = content(3 * CHUNK + 1);
    const path = join(folder(), `x${PARTIAL_SUFFIX}`);
    writeFileSync(path, data.subarray(0, 3 * CHUNK));
    const partial = await PartialDownload.open(path, manifest);
    expect(partial.chunksVerified).toBe(3);
    expect(await partial.storeChunk(chunkOf(data, 3), sha(chunkOf(data, 3)))).toBe(true);
    expect(await partial.wholeDigest()).toBe(manifest.sha256);
    await partial.close();
  });

  it('checks the prefix again on resume: a damaged chunk on disk is fetched again, not trusted', async () => {
    const { data, manifest } = content(3 * CHUNK);
    const path = join(folder(), `x${PARTIAL_SUFFIX}`);
    const damaged = Buffer.from(data.subarray(0, 3 * CHUNK));
    damaged[CHUNK + 5] = damaged[CHUNK + 5]! ^ 0x01;
    writeFileSync(path, damaged);
    const partial = await PartialDownload.open(path, manifest);
    expect(partial.chunksVerified).toBe(1);
    expect(statSync(path).size).toBe(CHUNK);
    for (let i = 1; i < 3; i++) expect(await partial.storeChunk(chunkOf(data, i), sha(chunkOf(data, i)))).toBe(true);
    expect(await partial.wholeDigest()).toBe(manifest.sha256);
    await partial.close();
  });

  it('starts over when the partial file is gone, and handles an empty file', async () => {
    const { data, manifest } = content(CHUNK + 1);
    const dir = folder();
    const partial = await PartialDownload.open(join(dir, `gone${PARTIAL_SUFFIX}`), manifest);
    expect(partial.chunksVerified).toBe(0);
    expect(await partial.storeChunk(chunkOf(data, 0), sha(chunkOf(data, 0)))).toBe(true);
    await partial.close();

    const empty = content(0);
    const nothing = await PartialDownload.open(join(dir, `empty${PARTIAL_SUFFIX}`), empty.manifest);
    expect(nothing.chunksVerified).toBe(empty.manifest.chunks.length);
    expect(nothing.bytesVerified).toBe(0);
    expect(await nothing.wholeDigest()).toBe(empty.manifest.sha256);
    await nothing.close();
  });
});

describe('giving a download its final name', () => {
  it('never replaces an existing file: the name gets a number, the partial name is gone', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'system.log'), 'the user’s own file');
    writeFileSync(join(dir, 'system (1).log'), 'another');
    const partial = join(dir, `system.log${PARTIAL_SUFFIX}`);
    writeFileSync(partial, 'downloaded');
    const final = await commitDownload(partial, join(dir, 'system.log'));
    expect(final).toBe(join(dir, 'system (2).log'));
    expect(readFileSync(join(dir, 'system.log'), 'utf8')).toBe('the user’s own file');
    expect(readFileSync(final, 'utf8')).toBe('downloaded');
    expect(existsSync(partial)).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['system (1).log', 'system (2).log', 'system.log']);
  });

  it('takes the wanted name when it is free', async () => {
    const dir = folder();
    const partial = join(dir, `report.csv${PARTIAL_SUFFIX}`);
    writeFileSync(partial, 'a,b');
    expect(await commitDownload(partial, join(dir, 'report.csv'))).toBe(join(dir, 'report.csv'));
    expect(readdirSync(dir)).toEqual(['report.csv']);
  });
});
