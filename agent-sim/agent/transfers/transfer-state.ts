import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { Sha256HexSchema } from '#contract/transfers';

/** What the receiver remembers of a transfer to the device: how far it verified, where the file goes. */
export const ReceiveStateSchema = z.object({
  kind: z.literal('receive'),
  transferId: z.string(),
  devicePath: z.string(),
  size: z.number().int().nonnegative(),
  sha256: Sha256HexSchema,
  chunkSize: z.number().int().positive(),
  hostPath: z.string(),
  partialPath: z.string(),
  /** Chunks [0, verifiedChunks) are verified and synced in the partial file. */
  verifiedChunks: z.number().int().nonnegative(),
  /** `verified`: the whole file checked out; `committed`: it sits under its final name. */
  phase: z.enum(['receiving', 'verified', 'committed']),
});
export type ReceiveState = z.infer<typeof ReceiveStateSchema>;

/** What the sender remembers: the file it declared, so a resume need not read it again. */
export const SendStateSchema = z.object({
  kind: z.literal('send'),
  transferId: z.string(),
  devicePath: z.string(),
  hostPath: z.string(),
  size: z.number().int().nonnegative(),
  mtimeMs: z.number(),
  ino: z.number(),
  sha256: Sha256HexSchema,
});
export type SendState = z.infer<typeof SendStateSchema>;

const StateSchema = z.discriminatedUnion('kind', [ReceiveStateSchema, SendStateSchema]);
export type TransferLocalState = z.infer<typeof StateSchema>;

/**
 * The agent's durable memory of its transfers, one small JSON file each under
 * `<dataDir>/transfers/`, replaced atomically (temporary file, fsync, rename, fsync of
 * the folder) so a crash leaves the old or the new state, never a torn one.
 */
export class TransferStateStore {
  constructor(readonly dir: string) {}

  async load(transferId: string): Promise<TransferLocalState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path(transferId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = StateSchema.safeParse(safeJson(text));
    // an unreadable state is no state: the transfer starts over (and verifies everything again)
    return parsed.success && parsed.data.transferId === transferId ? parsed.data : undefined;
  }

  async save(state: TransferLocalState): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, `.${randomBytes(6).toString('hex')}.tmp`);
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(JSON.stringify(state));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, this.path(state.transferId));
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async remove(transferId: string): Promise<void> {
    await unlink(this.path(transferId)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  /** The ids of every transfer with a saved state. */
  async ids(): Promise<string[]> {
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length));
  }

  private path(transferId: string): string {
    // ids come from the server: keep them to a plain file name whatever they hold
    return join(this.dir, `${transferId.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
