import { constants, type Stats } from 'node:fs';
import { link, lstat, open, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { DEVICE_MODELS, type DeviceModelId } from '#contract/device-models';
import { TetherError, type ErrorCode } from '#contract/errors';
import { MAX_DEVICE_PATH, PARTIAL_SUFFIX, checkDevicePath, type FileEntry } from '#contract/transfers';
import type { LocalAuditFile } from '../local-audit.ts';
import type { DeviceFiles } from './types.ts';

/**
 * A folder lists at most this many entries (folders first, then by name); the rest are
 * left out silently. A device folder that large is a log spool, not something an
 * engineer browses, and the list travels in one command result.
 */
export const MAX_LIST_ENTRIES = 5000;

export interface DeviceFilesOptions {
  /** The host folder standing for the device's file system (DeviceAdapter.filesDir). */
  filesDir: string;
  modelId: DeviceModelId;
  /** Refusals are written here before they are thrown. */
  audit: Pick<LocalAuditFile, 'append'>;
  /** Overrides the model's limit (a device with less storage; tests). */
  maxFileBytes?: number;
}

type Operation = 'list' | 'send' | 'receive' | 'commit';

/** Errors that refuse a request, as opposed to the disk failing under it. */
const REFUSALS: readonly ErrorCode[] = ['PATH_NOT_ALLOWED', 'FILE_NOT_FOUND', 'FILE_TOO_LARGE', 'FILE_EXISTS', 'VALIDATION_FAILED'];

/** A device path resolved on disk: the real folder of its root, and where the path itself lands. */
interface Resolved {
  devicePath: string;
  realRoot: string;
  /** filesDir + devicePath, before any symlink is followed. */
  hostPath: string;
}

/**
 * The DeviceFiles every file operation of the agent goes through (see types.ts for the
 * contract). Each call checks the path as text first (checkDevicePath: absolute, no
 * `..`, inside a root), then on disk: the real path of the root must lie inside the real
 * files folder, and the real path of the target — or of its parent, for a file still to
 * be created — inside the real root, so a symlink can never lead out. Refusals are
 * audited as `files.refused` {path, code, reason} and thrown as TetherError; a disk error
 * is audited as `files.error` and thrown as COMMAND_FAILED.
 *
 * The checks run before the caller opens the file; a process that can already write
 * inside the device's folders could still swap a symlink in between. That is the
 * device's own trust boundary, not the remote engineer's.
 */
export function createDeviceFiles(options: DeviceFilesOptions): DeviceFiles {
  const { filesDir, audit } = options;
  const rules = DEVICE_MODELS[options.modelId].files;
  const roots = [...rules.roots];
  const maxFileBytes = options.maxFileBytes ?? rules.maxFileBytes;

  const refuse = (code: ErrorCode, message: string): never => {
    throw new TetherError(code, message);
  };

  /** Audits a failed operation: a refusal as `files.refused`, a disk failure as `files.error`. */
  const record = (operation: Operation, path: string, err: unknown): TetherError => {
    const error = asTetherError(err, path);
    const refused = REFUSALS.includes(error.code);
    audit.append(refused ? 'files.refused' : 'files.error', refused ? 'denied' : 'failed', {
      operation,
      path: path.slice(0, MAX_DEVICE_PATH),
      code: error.code,
      reason: error.message,
    });
    return error;
  };

  /** Runs one operation; whatever it throws is audited and leaves as a TetherError. */
  const guarded = async <T>(operation: Operation, path: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw record(operation, path, err);
    }
  };

  /** The textual check, then the root's real folder, which must stay inside the files folder. */
  const resolve = async (path: string): Promise<Resolved> => {
    const devicePath = checkDevicePath(path, roots);
    const root = roots.filter((r) => devicePath === r || devicePath.startsWith(`${r}/`)).sort((a, b) => b.length - a.length)[0] as string;
    const realFiles = await realpath(filesDir).catch(() => refuse('FILE_NOT_FOUND', 'this device has no file system to work on'));
    const realRoot = await realpath(join(filesDir, root)).catch(() => refuse('FILE_NOT_FOUND', `the folder ${root} does not exist on this device`));
    if (!inside(realRoot, realFiles)) refuse('PATH_NOT_ALLOWED', `the folder ${root} leads outside the device's file system`);
    return { devicePath, realRoot, hostPath: join(filesDir, ...devicePath.split('/').slice(1)) };
  };

  /** The real path of an existing target, which must stay inside its root. */
  const realTarget = async ({ devicePath, realRoot, hostPath }: Resolved): Promise<string> => {
    const real = await realpath(hostPath).catch((err: NodeJS.ErrnoException) => {
      throw asTetherError(err, devicePath);
    });
    if (!inside(real, realRoot)) refuse('PATH_NOT_ALLOWED', `${devicePath} leads outside ${rootOf(devicePath)} (a link to elsewhere)`);
    return real;
  };

  /**
   * The device path a real host path (as prepareReceive returned it) stands for;
   * undefined when it lies in no root.
   */
  const findRoot = async (hostPath: string): Promise<string | undefined> => {
    const realFiles = await realpath(filesDir).catch(() => undefined);
    if (!realFiles) return undefined;
    for (const root of roots) {
      const realRoot = await realpath(join(filesDir, root)).catch(() => undefined);
      if (!realRoot || !inside(realRoot, realFiles) || !inside(hostPath, realRoot) || hostPath === realRoot) continue;
      const devicePath = `${root}/${relative(realRoot, hostPath).split(sep).join('/')}`;
      if (isListablePath(devicePath, roots)) return devicePath;
    }
    return undefined;
  };

  const listRoots = async (): Promise<{ path: string; entries: FileEntry[] }> => {
    const entries: FileEntry[] = [];
    for (const root of roots) {
      try {
        const resolved = await resolve(root);
        const info = await stat(await realTarget(resolved));
        if (info.isDirectory()) entries.push(entryOf(root, 'directory', info));
      } catch (err) {
        // a root missing on this device is simply not offered; one leading outside is left out and audited
        if (asTetherError(err, root).code !== 'FILE_NOT_FOUND') record('list', root, err);
      }
    }
    return { path: '/', entries: sortEntries(entries) };
  };

  const listFolder = async (path: string): Promise<{ path: string; entries: FileEntry[] }> => {
    const resolved = await resolve(path);
    const folder = await realTarget(resolved);
    if (!(await stat(folder)).isDirectory()) refuse('PATH_NOT_ALLOWED', `${resolved.devicePath} is a file, not a folder`);
    const candidates: { name: string; type: FileEntry['type']; host: string }[] = [];
    for (const dirent of await readdir(folder, { withFileTypes: true })) {
      const devicePath = `${resolved.devicePath}/${dirent.name}`;
      // names no device path can carry (backslash, control characters) could never be fetched either
      if (!isListablePath(devicePath, roots)) continue;
      const host = join(folder, dirent.name);
      if (dirent.isDirectory()) candidates.push({ name: dirent.name, type: 'directory', host });
      else if (dirent.isFile()) candidates.push({ name: dirent.name, type: 'file', host });
      else if (dirent.isSymbolicLink()) {
        const target = await linkTarget(host, resolved.realRoot);
        if (target) candidates.push({ name: dirent.name, type: target, host });
      }
      // sockets, FIFOs and devices are not files anyone can fetch: left out
    }
    candidates.sort((a, b) => compareEntries(a, b));
    const shown = await Promise.all(
      candidates.slice(0, MAX_LIST_ENTRIES).map(async (c) => {
        const info = await stat(c.host).catch(() => undefined); // gone since readdir: left out
        return info ? entryOf(`${resolved.devicePath}/${c.name}`, c.type, info) : undefined;
      }),
    );
    return { path: resolved.devicePath, entries: shown.filter((e): e is FileEntry => e !== undefined) };
  };

  return {
    roots,
    maxFileBytes,

    list: (path) => guarded('list', path, () => (path === '/' ? listRoots() : listFolder(path))),

    openForSend: (path) =>
      guarded('send', path, async () => {
        const resolved = await resolve(path);
        const real = await realTarget(resolved);
        const info = await stat(real);
        if (!info.isFile()) refuse('PATH_NOT_ALLOWED', `${resolved.devicePath} is ${describeKind(info)}, not a regular file`);
        if (info.size > maxFileBytes) refuse('FILE_TOO_LARGE', `${resolved.devicePath} is ${info.size} bytes; this device sends at most ${maxFileBytes}`);
        return { hostPath: real, size: info.size };
      }),

    prepareReceive: (path, size, overwrite) =>
      guarded('receive', path, async () => {
        const resolved = await resolve(path);
        if (!Number.isSafeInteger(size) || size < 0) refuse('VALIDATION_FAILED', `${size} is not a file size`);
        if (size > maxFileBytes) refuse('FILE_TOO_LARGE', `${resolved.devicePath} would be ${size} bytes; this device accepts at most ${maxFileBytes}`);
        if (roots.includes(resolved.devicePath)) refuse('PATH_NOT_ALLOWED', `${resolved.devicePath} is a root folder, not a file name`);
        if (resolved.devicePath.endsWith(PARTIAL_SUFFIX)) refuse('PATH_NOT_ALLOWED', `names ending in ${PARTIAL_SUFFIX} are kept for files being received`);
        const parentDevicePath = resolved.devicePath.slice(0, resolved.devicePath.lastIndexOf('/'));
        const parent = await realTarget({ ...resolved, devicePath: parentDevicePath, hostPath: dirname(resolved.hostPath) });
        if (!(await stat(parent)).isDirectory()) refuse('PATH_NOT_ALLOWED', `${parentDevicePath} is a file, not a folder`);
        const hostPath = join(parent, basename(resolved.hostPath));
        const partialPath = `${hostPath}${PARTIAL_SUFFIX}`;
        await checkReceiveTargets(resolved.devicePath, hostPath, partialPath, overwrite);
        return { hostPath, partialPath };
      }),

    commitReceive: async (partialPath, hostPath, overwrite) => {
      const placed = await findRoot(hostPath);
      const devicePath = placed ?? hostPath;
      return guarded('commit', devicePath, async () => {
        if (!placed) refuse('PATH_NOT_ALLOWED', `${hostPath} is not inside the device's allowed folders`);
        if (partialPath !== `${hostPath}${PARTIAL_SUFFIX}`) refuse('PATH_NOT_ALLOWED', `${partialPath} is not the partial file of ${devicePath}`);
        // the target's folder must still be where prepareReceive found it: no symlink swapped in since
        const parent = dirname(hostPath);
        const realParent = await realpath(parent).catch((err: NodeJS.ErrnoException) => {
          throw asTetherError(err, devicePath);
        });
        if (realParent !== parent) refuse('PATH_NOT_ALLOWED', `the folder of ${devicePath} changed since the transfer started`);
        await checkReceiveTargets(devicePath, hostPath, partialPath, overwrite);
        const partial = await lstat(partialPath).catch(() => refuse('FILE_NOT_FOUND', `nothing was received for ${devicePath}`));
        if (!partial.isFile()) refuse('PATH_NOT_ALLOWED', `the partial file of ${devicePath} is not a regular file`);
        await syncFile(partialPath);
        await place(partialPath, hostPath, overwrite, devicePath);
        await syncFile(parent);
      });
    },
  };
}

/**
 * The final name and the partial file beside it: a link at either is refused (it would
 * write through to wherever it points), a folder or special file too, a partial file with
 * other hard links, an existing file unless `overwrite`.
 */
async function checkReceiveTargets(devicePath: string, hostPath: string, partialPath: string, overwrite: boolean): Promise<void> {
  const target = await lstatIfExists(hostPath);
  if (target?.isSymbolicLink()) throw new TetherError('PATH_NOT_ALLOWED', `${devicePath} is a link; links are never written through`);
  if (target && !target.isFile()) throw new TetherError('PATH_NOT_ALLOWED', `${devicePath} is ${describeKind(target)}, not a file`);
  if (target && !overwrite) throw new TetherError('FILE_EXISTS', `${devicePath} already exists; ask to overwrite it to replace it`);
  const partial = await lstatIfExists(partialPath);
  if (partial?.isSymbolicLink()) throw new TetherError('PATH_NOT_ALLOWED', `${devicePath}${PARTIAL_SUFFIX} is a link; links are never written through`);
  if (partial && !partial.isFile()) throw new TetherError('PATH_NOT_ALLOWED', `${devicePath}${PARTIAL_SUFFIX} is ${describeKind(partial)}, not a file`);
  // the receiver appends to the partial file: another name for the same bytes could be anywhere
  if (partial && partial.nlink > 1) throw new TetherError('PATH_NOT_ALLOWED', `${devicePath}${PARTIAL_SUFFIX} has other hard links; it is never written through`);
}

/**
 * Gives the verified file its final name. Without overwrite a hard link is made first,
 * which fails if the name was taken meanwhile (rename would silently replace it); a file
 * system without hard links falls back to rename after the check above.
 */
async function place(partialPath: string, hostPath: string, overwrite: boolean, devicePath: string): Promise<void> {
  if (overwrite) {
    await rename(partialPath, hostPath);
    return;
  }
  try {
    await link(partialPath, hostPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new TetherError('FILE_EXISTS', `${devicePath} already exists; ask to overwrite it to replace it`);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    await rename(partialPath, hostPath);
    return;
  }
  await unlink(partialPath);
}

/** What a symlink inside a listed folder shows as: its target's type, when the target stays inside the root. */
async function linkTarget(host: string, realRoot: string): Promise<FileEntry['type'] | undefined> {
  try {
    const real = await realpath(host);
    if (!inside(real, realRoot)) return undefined;
    const info = await stat(real);
    return info.isDirectory() ? 'directory' : info.isFile() ? 'file' : undefined;
  } catch {
    return undefined; // dangling or looping: nothing to show
  }
}

async function lstatIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Flushes a file's (or folder's) data to disk, so a rename is not seen before its bytes. */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function inside(real: string, realRoot: string): boolean {
  return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : `${realRoot}${sep}`);
}

function rootOf(devicePath: string): string {
  return devicePath.slice(0, devicePath.indexOf('/', 1) === -1 ? undefined : devicePath.indexOf('/', 1));
}

function isListablePath(devicePath: string, roots: readonly string[]): boolean {
  try {
    checkDevicePath(devicePath, roots);
    return true;
  } catch {
    return false;
  }
}

function entryOf(path: string, type: FileEntry['type'], info: Stats): FileEntry {
  return { name: path.slice(path.lastIndexOf('/') + 1), path, type, size: type === 'directory' ? 0 : info.size, modifiedAt: info.mtime.toISOString() };
}

function compareEntries(a: { name: string; type: FileEntry['type'] }, b: { name: string; type: FileEntry['type'] }): number {
  if (a.type !== b.type) return a.type === 'directory' ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function sortEntries(entries: FileEntry[]): FileEntry[] {
  return entries.sort(compareEntries);
}

function describeKind(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isSymbolicLink()) return 'a link';
  if (info.isSocket()) return 'a socket';
  if (info.isFIFO()) return 'a pipe';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device node';
  return 'not a regular file';
}

/** Any error as the TetherError the caller sees: file system codes mapped to refusals where they are ones. */
function asTetherError(err: unknown, path: string): TetherError {
  if (err instanceof TetherError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new TetherError('FILE_NOT_FOUND', `${path} does not exist on this device`);
    case 'ELOOP':
      return new TetherError('PATH_NOT_ALLOWED', `${path} is a loop of links`);
    case 'EACCES':
    case 'EPERM':
      return new TetherError('PATH_NOT_ALLOWED', `the device does not allow access to ${path}`);
    case 'ENAMETOOLONG':
      return new TetherError('PATH_NOT_ALLOWED', `${path} is too long for this device`);
    default:
      return new TetherError('COMMAND_FAILED', `file work on ${path} failed: ${(err as Error).message ?? String(err)}`);
  }
}
