/**
 * `npm run bench:manifest -- [--size-mib N] [--runs N]`: the manifest pass a sender makes
 * before any byte of a transfer moves (the SHA-256 of every 4 MiB chunk and of the whole
 * file), as Tether does it (`fileManifest`: the whole-file hash on a second thread) against
 * the same pass on one thread (both hashes over one read), in the same process on the same
 * file. Prints the time of each and the ratio; checks both found the same hashes.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileManifest } from '#node-lib/file-manifest';
import { TRANSFER_CHUNK_BYTES, chunkCount, type TransferManifest } from '#contract/transfers';

const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '512' }, runs: { type: 'string', default: '3' } }, strict: true });
const SIZE_MIB = Number(values['size-mib']);
const RUNS = Number(values.runs);
if (!Number.isInteger(SIZE_MIB) || SIZE_MIB < 1 || SIZE_MIB > 16_384 || !Number.isInteger(RUNS) || RUNS < 1 || RUNS > 20) {
  process.stderr.write('usage: npm run bench:manifest -- [--size-mib 1..16384] [--runs 1..20]\n');
  process.exit(2);
}
const MiB = 1024 * 1024;

/** The baseline: one read pass, both hashes on this thread. */
async function oneThread(path: string, size: number): Promise<TransferManifest> {
  const whole = createHash('sha256');
  const chunks: string[] = [];
  const buffer = Buffer.allocUnsafe(MiB);
  const file = await open(path, 'r');
  try {
    let read = 0;
    for (let index = 0; index < chunkCount(size, TRANSFER_CHUNK_BYTES); index += 1) {
      const chunk = createHash('sha256');
      const end = Math.min(size, (index + 1) * TRANSFER_CHUNK_BYTES);
      while (read < end) {
        const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, end - read), read);
        chunk.update(buffer.subarray(0, bytesRead));
        whole.update(buffer.subarray(0, bytesRead));
        read += bytesRead;
      }
      chunks.push(chunk.digest('hex'));
    }
  } finally {
    await file.close();
  }
  return { size, sha256: whole.digest('hex'), chunkSize: TRANSFER_CHUNK_BYTES, chunks };
}

const dir = mkdtempSync(join(tmpdir(), 'tether-bench-manifest-'));
try {
  const path = join(dir, 'file.bin');
  const size = SIZE_MIB * MiB;
  const file = await open(path, 'w');
  const buffer = Buffer.allocUnsafe(4 * MiB);
  for (let written = 0; written < size; written += buffer.length) await file.write(randomFillSync(buffer), 0, Math.min(buffer.length, size - written));
  await file.close();
  process.stdout.write(`manifest pass over ${SIZE_MIB} MiB (file in the page cache), ${RUNS} runs alternating\n`);
  const times = { one: [] as number[], two: [] as number[] };
  for (let run = 0; run < RUNS; run += 1) {
    let t = performance.now();
    const a = await oneThread(path, size);
    times.one.push(performance.now() - t);
    t = performance.now();
    const b = await fileManifest(path, size, { chunkSize: TRANSFER_CHUNK_BYTES });
    times.two.push(performance.now() - t);
    if (a.sha256 !== b.sha256 || a.chunks.join() !== b.chunks.join()) throw new Error('the two passes disagree');
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const one = median(times.one);
  const two = median(times.two);
  process.stdout.write(
    [
      `  one thread (baseline)     ${one.toFixed(0).padStart(6)} ms  ${((size / MiB / one) * 1000).toFixed(0)} MiB/s  (median of ${times.one.map((x) => x.toFixed(0)).join(', ')})`,
      `  Tether (two threads)      ${two.toFixed(0).padStart(6)} ms  ${((size / MiB / two) * 1000).toFixed(0)} MiB/s  (median of ${times.two.map((x) => x.toFixed(0)).join(', ')})`,
      `  Tether ÷ one thread       ${(two / one).toFixed(2)} of the time`,
      '',
    ].join('\n'),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
