import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, openSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GrowingFileHash, fileManifest } from '#node-lib/file-manifest';
import { TetherError } from '#contract/errors';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;
const dir = mkdtempSync(join(tmpdir(), 'tether-file-manifest-'));
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function fileOf(size: number): { path: string; data: Buffer } {
  const data = randomBytes(size);
  const path = join(dir, `f-${size}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, data);
  return { path, data };
}

describe('the manifest pass', () => {
  it.each([
    ['small (one thread)', 3 * CHUNK + 5],
    ['large (the whole hash on a second thread)', 5 * CHUNK + 7],
  ])('%s: every chunk hash and the whole hash match an independent hashing', async (_name, size) => {
    const { path, data } = fileOf(size);
    const seen: number[] = [];
    const manifest = await fileManifest(path, size, { chunkSize: CHUNK, onProgress: (n) => seen.push(n) });
    const chunks: string[] = [];
    for (let start = 0; start < size; start += CHUNK) chunks.push(sha(data.subarray(start, start + CHUNK)));
    expect(manifest).toEqual({ size, sha256: sha(data), chunkSize: CHUNK, chunks });
    expect(seen.at(-1)).toBe(size);
  });

  it('refuses a large file that is shorter than declared, or grows while it is read', async () => {
    const short = fileOf(5 * CHUNK);
    await expect(fileManifest(short.path, 5 * CHUNK + 1, { chunkSize: CHUNK })).rejects.toMatchObject({ code: 'CONFLICT' });
    const growing = fileOf(5 * CHUNK);
    let appended = false;
    const outcome = fileManifest(growing.path, 5 * CHUNK, {
      chunkSize: CHUNK,
      onProgress: () => {
        if (appended) return;
        appended = true;
        appendFileSync(growing.path, 'more');
      },
    });
    await expect(outcome).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('stops with its signal, both threads, and says why', async () => {
    const { path } = fileOf(8 * CHUNK);
    const controller = new AbortController();
    const reason = new TetherError('COMMAND_FAILED', 'canceled by the engineer');
    const outcome = fileManifest(path, 8 * CHUNK, {
      chunkSize: CHUNK,
      signal: controller.signal,
      onProgress: (n) => {
        if (n >= CHUNK) controller.abort(reason);
      },
    });
    await expect(outcome).rejects.toBe(reason);
  });
});

describe('the hash of a file being written, on a second thread', () => {
  it('follows the writes and gives the hash of exactly the bytes asked for', async () => {
    const data = randomBytes(3 * MiB + 11);
    const path = join(dir, `growing-${Math.random().toString(36).slice(2)}`);
    const fd = openSync(path, 'w');
    const hash = new GrowingFileHash(path);
    try {
      for (let at = 0; at < data.length; at += MiB) {
        const piece = data.subarray(at, at + MiB);
        writeSync(fd, piece, 0, piece.length, at);
        hash.advance(at + piece.length);
      }
      // more on disk than asked for: only the first bytes count
      writeSync(fd, Buffer.from('trailing'), 0, 8, data.length);
    } finally {
      closeSync(fd);
    }
    expect(await hash.digest(data.length)).toBe(sha(data));
    await expect(hash.digest(data.length)).rejects.toMatchObject({ code: 'INTERNAL' }); // done after its answer
  });

  it('says so when the file is shorter than the bytes it was told were written', async () => {
    const path = join(dir, `short-${Math.random().toString(36).slice(2)}`);
    writeFileSync(path, randomBytes(1000));
    const hash = new GrowingFileHash(path);
    await expect(hash.digest(5000)).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
