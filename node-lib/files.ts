import { mkdirSync, openSync, writeSync, fsyncSync, closeSync, renameSync, readFileSync, existsSync, fstatSync, readSync, ftruncateSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file so that it is either wholly the old or wholly the new content, even if the
 * process is killed mid-write: write a temporary sibling, fsync, rename over, fsync the
 * directory. `mode` 0o600 keeps secrets readable by the owner only.
 */
export function writeFileAtomic(path: string, content: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDirectory(dir);
}

export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads a UTF-8 file, or undefined when it does not exist. */
export function readFileIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/**
 * Makes an append-only line file end on a whole line: a last line torn by a crash
 * mid-append (no trailing newline) is cut off, so the next append starts clean. Returns
 * whether anything was cut.
 */
export function trimTornLastLine(path: string): boolean {
  if (!existsSync(path)) return false;
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] === 0x0a) return false;
    let end = size - 1;
    const chunk = Buffer.alloc(4096);
    while (end > 0) {
      const start = Math.max(0, end - chunk.length);
      const length = end - start;
      readSync(fd, chunk, 0, length, start);
      const at = chunk.subarray(0, length).lastIndexOf(0x0a);
      if (at >= 0) {
        end = start + at + 1;
        break;
      }
      end = start;
    }
    ftruncateSync(fd, end);
    fsyncSync(fd);
    return true;
  } finally {
    closeSync(fd);
  }
}
