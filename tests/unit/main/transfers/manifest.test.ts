import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeManifest, statFile } from '../../../../src/main/services/transfers/manifest.ts';
import { TetherError } from '#contract/errors';
import { TransferManifestSchema } from '#contract/transfers';

const CHUNK = 64 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'tether-manifest-'));
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A file of `size` random bytes, and what its manifest must say (hashed independently, in memory). */
function fileOf(size: number): { path: string; expected: { size: number; sha256: string; chunks: string[] } } {
  const data = randomBytes(size);
  const path = join(dir, `f-${size}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, data);
  const chunks: string[] = [];
  for (let start = 0; start < size; start += CHUNK) chunks.push(sha(data.subarray(start, start + CHUNK)));
  return { path, expected: { size, sha256: sha(data), chunks } };
}

describe('the manifest of a local file', () => {
  it.each([
    ['an empty file', 0],
    ['one byte', 1],
    ['exactly one chunk', CHUNK],
    ['one chunk and a byte', CHUNK + 1],
    ['several chunks, the last one short', 5 * CHUNK + 123],
  ])('declares %s: size, whole hash and one hash per chunk, valid by the contract', async (_name, size) => {
    const { path, expected } = fileOf(size);
    const { manifest } = await computeManifest(path, { chunkSize: CHUNK });
    expect(manifest).toEqual({ ...expected, chunkSize: CHUNK });
    expect(TransferManifestSchema.safeParse(manifest).success).toBe(true);
  });

  it('reports how far it has read, ending at the size', async () => {
    const { path } = fileOf(3 * 1024 * 1024 + 17);
    const seen: number[] = [];
    await computeManifest(path, { onProgress: (n) => seen.push(n) });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(3 * 1024 * 1024 + 17);
  });

  it('refuses a file that grows while it is read: its manifest would match no version', async () => {
    const { path } = fileOf(4 * 1024 * 1024);
    let appended = false;
    const outcome = computeManifest(path, {
      chunkSize: CHUNK,
      onProgress: () => {
        if (appended) return;
        appended = true;
        appendFileSync(path, 'more');
      },
    });
    await expect(outcome).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('names a missing file and a folder in words', async () => {
    const missing = await statFile(join(dir, 'nope')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TetherError);
    expect(missing).toMatchObject({ code: 'FILE_NOT_FOUND' });
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    await expect(computeManifest(folder)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('stops when told to', async () => {
    const { path } = fileOf(2 * 1024 * 1024);
    const controller = new AbortController();
    controller.abort();
    await expect(computeManifest(path, { signal: controller.signal })).rejects.toThrow();
  });
});
