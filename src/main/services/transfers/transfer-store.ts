import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { TransferErrorSchema } from '#contract/api/transfers';
import { writeFileAtomic } from '#node-lib/files';
import { Sha256HexSchema, TERMINAL_TRANSFER_STATES, TransferDirectionSchema, TransferStateSchema } from '#contract/transfers';

/**
 * What the console remembers of a transfer across restarts: one small JSON file per
 * transfer under `<home>/transfers/`, replaced atomically on every change that matters for
 * a resume (the server's id, the verified chunk count, the final name). Progress between
 * chunks is not written: a resume starts from the last verified chunk anyway.
 */
export const TransferRecordSchema = z.object({
  version: z.literal(1),
  id: z.string().min(1).max(64),
  /** Whose it is (the server profile and the user there): shown and resumed only when they sign in again. */
  owner: z.string(),
  transferId: z.string().nullable(),
  deviceId: z.string(),
  deviceSerial: z.string(),
  sessionId: z.string(),
  direction: TransferDirectionSchema,
  fileName: z.string(),
  /** Upload: the destination on the device. Download: the source. */
  devicePath: z.string(),
  overwrite: z.boolean(),
  /** Upload: the file read, its state when hashed (a changed file is not resumed) and whether it is a staged copy (removed at the end). */
  source: z.object({ path: z.string(), size: z.number().int().nonnegative().nullable(), mtimeMs: z.number().nullable(), staged: z.boolean() }).nullable(),
  uploadUrl: z.string().nullable(),
  /** Download: the folder chosen, the name reserved there (its partial file is `<destination>.tether-part`), the chunks verified. */
  saveDir: z.string().nullable(),
  destination: z.string().nullable(),
  verifiedChunks: z.number().int().nonnegative(),
  /** Where the file ended up (download) once it verified. */
  finalPath: z.string().nullable(),
  state: TransferStateSchema,
  size: z.number().int().nonnegative().nullable(),
  sha256: Sha256HexSchema.nullable(),
  chunkSize: z.number().int().positive(),
  error: TransferErrorSchema.nullable(),
  attempts: z.number().int().nonnegative(),
  createdAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().nullable(),
});
export type TransferRecord = z.infer<typeof TransferRecordSchema>;

/** Finished transfers kept per owner for the history; older ones are forgotten first. */
export const HISTORY_KEPT = 200;

/** The records on disk: one file each, written atomically; a damaged file is skipped, not fatal. */
export class TransferRecordStore {
  constructor(private readonly dir: string) {}

  save(record: TransferRecord): void {
    writeFileAtomic(this.fileOf(record.id), `${JSON.stringify(record)}\n`);
  }

  remove(id: string): void {
    rmSync(this.fileOf(id), { force: true });
  }

  /**
   * The records of one owner, oldest first. Finished ones beyond HISTORY_KEPT are
   * deleted here, so the folder stays small.
   */
  load(owner: string): TransferRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    } catch {
      return [];
    }
    const records: TransferRecord[] = [];
    for (const name of names) {
      let parsed;
      try {
        parsed = TransferRecordSchema.safeParse(JSON.parse(readFileSync(join(this.dir, name), 'utf8')));
      } catch {
        continue;
      }
      if (parsed.success && parsed.data.owner === owner && `${parsed.data.id}.json` === name) records.push(parsed.data);
    }
    records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const finished = records.filter((r) => TERMINAL_TRANSFER_STATES.includes(r.state));
    const dropped = new Set(finished.slice(0, Math.max(0, finished.length - HISTORY_KEPT)).map((r) => r.id));
    for (const id of dropped) this.remove(id);
    return records.filter((r) => !dropped.has(r.id));
  }

  private fileOf(id: string): string {
    // ids are UUIDs (checked by the schema's callers); never a path
    return join(this.dir, `${id.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
  }
}
