import { createWriteStream, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TetherError } from '#contract/errors';
import { safeFileName } from './local-files.ts';

const STAGED_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Browser mode's way in for local files: the page cannot name a path, so it streams a
 * dropped or picked file to the console process (PUT /staging/<uuid>), which keeps it
 * here as `<dir>/<uuid>/<name>` until its upload ends. A copy cut short never gets its
 * name, so a staged file is always whole.
 */
export class StagingArea {
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /** Streams `body` into the staging folder under `id`; refuses more than `maxBytes`. */
  async receive(id: string, name: string, body: Readable, declaredLength?: number): Promise<{ path: string; size: number }> {
    if (!STAGED_ID.test(id)) throw new TetherError('VALIDATION_FAILED', 'a staged file needs a UUID');
    if (declaredLength !== undefined && declaredLength > this.maxBytes) throw tooLarge(this.maxBytes);
    const folder = join(this.dir, id.toLowerCase());
    if (existsSync(folder)) throw new TetherError('FILE_EXISTS', 'this staged file was sent already');
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const partial = join(folder, '.incoming');
    let size = 0;
    const limit = this.maxBytes;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > limit) done(tooLarge(limit));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(partial, { mode: 0o600, flush: true }));
      if (declaredLength !== undefined && size !== declaredLength) throw new TetherError('VALIDATION_FAILED', `the file arrived with ${size} of ${declaredLength} bytes`);
      const path = join(folder, safeFileName(name));
      await rename(partial, path);
      return { path, size };
    } catch (err) {
      await rm(folder, { recursive: true, force: true });
      throw err;
    }
  }

  /** The staged file of `id`, or FILE_NOT_FOUND. */
  resolve(id: string): string {
    const folder = STAGED_ID.test(id) ? join(this.dir, id.toLowerCase()) : undefined;
    const name = folder && existsSync(folder) ? readdirSync(folder).find((n) => n !== '.incoming') : undefined;
    if (!folder || !name) throw new TetherError('FILE_NOT_FOUND', 'that staged file is not here (sent already, or never arrived)');
    return join(folder, name);
  }

  /** Whether `path` is a staged copy (removed when its transfer ends). */
  owns(path: string): boolean {
    return path.startsWith(this.dir + '/') || path.startsWith(this.dir + '\\');
  }

  /** Drops a staged file (its folder) once its transfer no longer needs it. */
  async discard(path: string): Promise<void> {
    if (!this.owns(path)) return;
    await rm(join(path, '..'), { recursive: true, force: true });
  }

  /** Removes staged files no transfer claims and older than `maxAgeMs` (left by a crash). */
  sweep(keep: ReadonlySet<string>, maxAgeMs: number, now = Date.now()): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const folder = join(this.dir, name);
      try {
        if (keep.has(name.toLowerCase()) || now - statSync(folder).mtimeMs < maxAgeMs) continue;
      } catch {
        continue;
      }
      rmSync(folder, { recursive: true, force: true });
    }
  }
}

function tooLarge(limit: number): TetherError {
  return new TetherError('FILE_TOO_LARGE', `the file is larger than the ${Math.round(limit / 1024 ** 3)} GiB the console stages`);
}
