import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import { type LogMessage, logText } from './file-tree.ts';
import type { SeededRandom } from './random.ts';

/** One log in a bundle: its name in the archive and how many of its entries go in. */
export interface BundledLog {
  readonly file: string;
  readonly entries: number;
  readonly messages: readonly LogMessage[];
}

/** Bundles a device keeps in /logs; older ones are removed when a new one is written. */
const BUNDLES_KEPT = 3;
const BLOCK = 512;
/** Lines generated per slice, between which the event loop gets a turn (a week of a server's logs is large). */
const LINES_PER_SLICE = 5000;

/**
 * Writes a log bundle — a real .tar.gz with one member per log, each holding `entries`
 * lines of the last `hours` — into the device's logs folder, under a temporary name first
 * so nobody lists or fetches half a bundle. Keeps the device's newest few bundles.
 * Returns the bundle's size in bytes.
 */
export async function writeLogBundle(
  logsDir: string,
  bundle: { serial: string; fileName: string; logs: readonly BundledLog[]; hours: number; now: number },
  random: SeededRandom,
  signal: AbortSignal,
): Promise<number> {
  const temporary = join(logsDir, `.${bundle.fileName}.${randomBytes(4).toString('hex')}.tmp`);
  const spanMs = bundle.hours * 3_600_000;
  async function* archive(): AsyncGenerator<Buffer> {
    for (const log of bundle.logs) {
      const slices: Buffer[] = [];
      for (let done = 0; done < log.entries; done += LINES_PER_SLICE) {
        const count = Math.min(LINES_PER_SLICE, log.entries - done);
        const sliceSpan = (spanMs * count) / log.entries;
        const sliceEnd = bundle.now - spanMs + (spanMs * (done + count)) / log.entries;
        slices.push(Buffer.from(logText(log.messages, count, sliceEnd, sliceSpan, random)));
        await yieldToLoop(undefined, { signal });
      }
      const size = slices.reduce((sum, s) => sum + s.length, 0);
      yield tarHeader(log.file, size, bundle.now);
      yield* slices;
      if (size % BLOCK) yield Buffer.alloc(BLOCK - (size % BLOCK));
    }
    yield Buffer.alloc(2 * BLOCK); // end of archive
  }
  await mkdir(logsDir, { recursive: true });
  try {
    await pipeline(Readable.from(archive()), createGzip(), createWriteStream(temporary, { mode: 0o644 }), { signal });
    await rename(temporary, join(logsDir, bundle.fileName));
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
  await pruneBundles(logsDir, bundle.serial);
  return (await stat(join(logsDir, bundle.fileName))).size;
}

/** Removes all but the newest bundles (their names sort by time). */
async function pruneBundles(logsDir: string, serial: string): Promise<void> {
  const pattern = new RegExp(`^${serial.replace(/[^A-Za-z0-9]/g, '\\$&')}-logs-\\d{8}T\\d{6}Z\\.tar\\.gz$`);
  const bundles = (await readdir(logsDir)).filter((name) => pattern.test(name)).sort();
  for (const name of bundles.slice(0, -BUNDLES_KEPT)) await rm(join(logsDir, name), { force: true });
}

/** A POSIX ustar header for a regular file. */
function tarHeader(name: string, size: number, mtimeMs: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, '0')}\0`;
  header.write(name.slice(0, 99), 0, 'utf8');
  header.write(octal(0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(Math.floor(mtimeMs / 1000), 12), 136, 'ascii');
  header.write(' '.repeat(8), 148, 'ascii'); // the checksum counts itself as spaces
  header.write('0', 156, 'ascii');
  header.write('ustar\u000000', 257, 'ascii');
  header.write('root', 265, 'ascii');
  header.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}
