import type { FileEntry } from '#contract/transfers';

/**
 * The agent's only door to the device's files. Every path is a device path ("/logs/a.log")
 * checked against the model's roots (contract/transfers.ts `checkDevicePath`) and again
 * on disk: the real path of the target (and of its parent, for a new file) must stay inside
 * the real path of its root — no symlink escape — and sizes stay within the model's limit.
 * A refusal throws TetherError (PATH_NOT_ALLOWED, FILE_NOT_FOUND, FILE_TOO_LARGE,
 * FILE_EXISTS) and is written to the agent's local audit with the path and the reason;
 * nothing is created or written on a refusal.
 */
export interface DeviceFiles {
  /** The model's roots, e.g. ["/logs", "/config", "/service"]. */
  readonly roots: readonly string[];
  readonly maxFileBytes: number;
  /** A folder's entries ("/" lists the roots), folders first, then by name. */
  list(devicePath: string): Promise<{ path: string; entries: FileEntry[] }>;
  /** A regular file to send: where it really is on disk, and its size (checked against the limit). */
  openForSend(devicePath: string): Promise<{ hostPath: string; size: number }>;
  /**
   * Where to receive a file of `size` bytes: the final path (which must not exist unless
   * `overwrite`) and a partial path beside it (final + PARTIAL_SUFFIX) that may already
   * hold a verified prefix from an earlier attempt. Creates nothing.
   */
  prepareReceive(devicePath: string, size: number, overwrite: boolean): Promise<{ hostPath: string; partialPath: string }>;
  /** Renames the verified partial file to its final name (re-checking the target first). */
  commitReceive(partialPath: string, hostPath: string, overwrite: boolean): Promise<void>;
}
