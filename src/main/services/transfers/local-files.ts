import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { type FileHandle, link, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { TetherError } from '#contract/errors';
import { GrowingFileHash } from '#node-lib/file-manifest';
import { fsyncDirectory } from '#node-lib/files';
import { PARTIAL_SUFFIX, type TransferManifest, chunkRange } from '#contract/transfers';


/**
 * The console's files of a download: `<dir>/<name>.tether-part` while chunks arrive, the
 * final name only once the whole file verified, never over an existing file.
 */

/** "report.log" → "report (1).log", "report (2).log", …; n = 0 is the name itself. */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const ext = extname(name); // "" for ".profile" or "README": the number goes at the end
  return `${name.slice(0, name.length - ext.length)} (${n})${ext}`;
}

/**
 * A free destination in `dir` for `name`: neither it nor its partial file exists and no
 * other transfer of this console holds it (`reserved`, full paths). "name (1).ext" and so
 * on when taken.
 */
export function freeDestination(dir: string, name: string, reserved: ReadonlySet<string> = new Set()): string {
  for (let n = 0; n < 10_000; n++) {
    const candidate = join(dir, numberedName(name, n));
    if (!reserved.has(candidate) && !existsSync(candidate) && !existsSync(candidate + PARTIAL_SUFFIX)) return candidate;
  }
  throw new TetherError('FILE_EXISTS', `no free name for ${name} in ${dir}`);
}

/** A file name from a device path or a user, made safe to create here: no folders, no control characters. */
export function safeFileName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]/g, '_').replace(/^\.+$/, '_').slice(0, 200).trim();
  return cleaned || 'file';
}

/**
 * A partial download, opened to continue: anything beyond the verified prefix is cut off
 * (it was never acknowledged), and the prefix is read back once — every chunk checked
 * against the manifest again (a disk can lose writes). The whole file's hash is taken on a
 * second thread as chunks are written (`GrowingFileHash`), so the end needs no pass over
 * the file and the console's own thread only checks chunks and writes them.
 */
export class PartialDownload {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly manifest: TransferManifest,
    private readonly whole: GrowingFileHash,
    private verified: number,
    /** Chunks [0, n) synced (≤ verified). */
    private durable = verified,
  ) {
    whole.advance(this.bytesVerified);
  }

  /**
   * Opens (or starts) the partial file: every whole chunk on disk that matches its hash
   * counts — also chunks written after the last saved count (it is saved about once a
   * second, not per chunk) — and the rest is cut off.
   */
  static async open(path: string, manifest: TransferManifest): Promise<PartialDownload> {
    const handle = await open(path, existsSync(path) ? 'r+' : 'w+', 0o600);
    try {
      const size = (await handle.stat()).size;
      let good = 0;
      for (let index = 0; index < manifest.chunks.length; index++) {
        const { start, end } = chunkRange(index, manifest.size, manifest.chunkSize);
        if (end > size) break;
        const digest = createHash('sha256');
        for await (const data of createReadStream('', { fd: handle.fd, start, end: end - 1, autoClose: false }) as AsyncIterable<Buffer>) digest.update(data);
        if (digest.digest('hex') !== manifest.chunks[index]) break;
        good = index + 1;
      }
      await handle.truncate(good === 0 ? 0 : chunkRange(good - 1, manifest.size, manifest.chunkSize).end);
      await handle.sync();
      return new PartialDownload(path, handle, manifest, new GrowingFileHash(path), good);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Chunks [0, n) are written and verified (on disk once `sync` has run). */
  get chunksVerified(): number {
    return this.verified;
  }

  get bytesVerified(): number {
    return this.verified === 0 ? 0 : chunkRange(this.verified - 1, this.manifest.size, this.manifest.chunkSize).end;
  }

  /**
   * Stores the next chunk, whose bytes the caller checked against the manifest (`sha256`
   * is what they hash to; nothing is written when it is not the manifest's: false), at its
   * place; then it counts. It is durable after the next `sync` (one sync covers every
   * chunk written before it, so syncing runs beside the next chunks' arrival).
   */
  async storeChunk(bytes: Buffer, sha256: string): Promise<boolean> {
    const index = this.verified;
    const { start, end } = chunkRange(index, this.manifest.size, this.manifest.chunkSize);
    if (bytes.length !== end - start || sha256 !== this.manifest.chunks[index]) return false;
    try {
      await writeAll(this.handle, bytes, start);
    } catch (err) {
      await this.handle.truncate(start).catch(() => undefined);
      throw err;
    }
    this.verified = index + 1;
    this.whole.advance(end);
    return true;
  }

  /** Syncs every chunk stored so far to disk (nothing to do when none was stored since the last sync). */
  async sync(): Promise<void> {
    const upTo = this.verified;
    if (upTo > this.durable) {
      await this.handle.datasync();
      this.durable = Math.max(this.durable, upTo);
    }
  }

  /** The whole file's SHA-256 (once every chunk is in). */
  wholeDigest(): Promise<string> {
    return this.whole.digest(this.bytesVerified);
  }

  async close(): Promise<void> {
    this.whole.stop();
    await this.handle.close();
  }
}

async function writeAll(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}

/**
 * Gives a verified partial file its final name without ever replacing a file: a hard link
 * fails if the name exists (then "name (n).ext" is tried), and only then is the partial
 * name removed. Where links are not possible, an existence check and a rename do. Returns
 * the path the file got.
 */
export async function commitDownload(partialPath: string, wanted: string): Promise<string> {
  const dir = join(wanted, '..');
  const base = wanted.slice(dir.length + 1);
  for (let n = 0; n < 10_000; n++) {
    const candidate = join(dir, numberedName(base, n));
    try {
      await link(partialPath, candidate);
      await unlink(partialPath);
      fsyncDirectory(dir);
      return candidate;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
      if (existsSync(candidate)) continue;
      await rename(partialPath, candidate);
      fsyncDirectory(dir);
      return candidate;
    }
  }
  throw new TetherError('FILE_EXISTS', `no free name for ${base} in ${dir}`);
}

/** Creates a folder for downloads (and its parents) if it is missing; refuses a file in the way. */
export async function ensureFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (!(await stat(dir)).isDirectory()) throw new TetherError('VALIDATION_FAILED', `${dir} is not a folder`);
}

/** Removes a file if it is there; a missing file is no error. */
export async function removeIfPresent(path: string | null | undefined): Promise<void> {
  if (!path) return;
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
}
