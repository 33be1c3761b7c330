import type { Kysely, Transaction } from 'kysely';
import { canonicalJson } from '#contract/canonical-json';
import { ChainVerifier, chainHash, type ChainVerification } from '#node-lib/hash-chain';
import type { AuditEntry } from '#contract/api/audit';
import type { AuditLogTable, AuditRow, Database } from '../store/schema.ts';

/** What a caller says happened; sequence, time and hashes are added here. */
export interface AuditInput {
  actorType: AuditLogTable['actor_type'];
  actorId?: string | null;
  actorName?: string | null;
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  outcome: AuditLogTable['outcome'];
  ip?: string | null;
  detail?: Record<string, unknown> | null;
}

type Executor = Kysely<Database> | Transaction<Database>;

/** The fields a link's hash covers: everything but the two hashes themselves. */
function hashedContent(row: Omit<AuditRow, 'hash' | 'prev_hash'>): unknown {
  return {
    seq: Number(row.seq),
    at: Number(row.at),
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorName: row.actor_name,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    outcome: row.outcome,
    ip: row.ip,
    detail: row.detail,
  };
}

/**
 * The server's append-only, hash-chained audit log. Every entry carries the hash of the
 * one before it, and the chain head is kept beside it, so an altered, removed or
 * truncated entry is found by `verify`. Appends happen inside the caller's transaction:
 * the audited change and its entry commit together or not at all.
 */
export class AuditLog {
  constructor(private readonly db: Kysely<Database>) {}

  /** Appends inside an open transaction (the caller's change commits with it). */
  async appendIn(trx: Transaction<Database>, input: AuditInput, now = Date.now()): Promise<AuditRow> {
    const head = await trx.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
    const base = {
      seq: Number(head.seq) + 1,
      at: now,
      actor_type: input.actorType,
      actor_id: input.actorId ?? null,
      actor_name: input.actorName ?? null,
      action: input.action,
      target_type: input.targetType ?? null,
      target_id: input.targetId ?? null,
      outcome: input.outcome,
      ip: input.ip ?? null,
      detail: input.detail ? canonicalJson(input.detail) : null,
    };
    const row: AuditRow = { ...base, prev_hash: head.hash, hash: chainHash(head.hash, hashedContent(base)) };
    await trx.insertInto('audit_log').values(row).execute();
    await trx.updateTable('audit_head').set({ seq: row.seq, hash: row.hash }).where('id', '=', 1).execute();
    return row;
  }

  /** Appends in a transaction of its own. */
  append(input: AuditInput, now = Date.now()): Promise<AuditRow> {
    return this.db.transaction().execute((trx) => this.appendIn(trx, input, now));
  }

  async list(filter: {
    action?: string | undefined;
    actorId?: string | undefined;
    targetId?: string | undefined;
    afterSeq?: number | undefined;
    limit: number;
  }): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit_log').selectAll();
    if (filter.action) q = q.where('action', '=', filter.action);
    if (filter.actorId) q = q.where('actor_id', '=', filter.actorId);
    if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
    if (filter.afterSeq !== undefined) {
      q = q.where('seq', '>', filter.afterSeq).orderBy('seq', 'asc');
    } else {
      q = q.orderBy('seq', 'desc');
    }
    const rows = await q.limit(filter.limit).execute();
    return rows.map(toAuditEntry);
  }

  /** Walks the whole chain in sequence order and names the first broken entry. */
  async verify(batchSize = 2000): Promise<ChainVerification> {
    return verifyAuditChain(this.db, batchSize);
  }
}

export async function verifyAuditChain(db: Executor, batchSize = 2000): Promise<ChainVerification> {
  const verifier = new ChainVerifier();
  let after = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>', after).orderBy('seq', 'asc').limit(batchSize).execute();
    for (const row of rows) {
      const ok = verifier.add({ seq: Number(row.seq), prevHash: row.prev_hash, hash: row.hash, content: hashedContent(row) });
      if (!ok) return verifier.finish();
    }
    if (rows.length < batchSize) break;
    after = Number(rows[rows.length - 1]?.seq ?? after);
  }
  const head = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  return verifier.finish(head ? { seq: Number(head.seq), hash: head.hash } : undefined);
}

export function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    seq: Number(row.seq),
    at: new Date(Number(row.at)).toISOString(),
    actorType: row.actor_type,
    actorId: row.actor_id,
    actorName: row.actor_name,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    outcome: row.outcome,
    ip: row.ip,
    detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null,
    hash: row.hash,
  };
}
