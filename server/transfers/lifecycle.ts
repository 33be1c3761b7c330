import { EventEmitter } from 'node:events';
import type { Transaction } from 'kysely';
import { backoffDelay } from '#contract/backoff';
import type { ErrorCode } from '#contract/errors';
import { END_CAUSE_TEXT, type SessionEndCause } from '#contract/sessions';
import type { ServerContext } from '../context.ts';
import type { AuditInput } from '../audit/audit-log.ts';
import type { CommandService, QueuedCommand, StateChange } from '../commands/command-service.ts';
import { publishLive } from '../live/publish.ts';
import type { Database, TransferRow } from '../store/schema.ts';
import type { TransferSpool } from './spool.ts';
import { deliveredBytes, toTransferView, transfersWithNames } from './views.ts';
import { ChunkHandoff } from './handoff.ts';

type Trx = Transaction<Database>;
export type TransferActor = Pick<AuditInput, 'actorType' | 'actorId' | 'actorName' | 'ip'>;
export type TransferError = { code: ErrorCode; message: string };

export const SYSTEM_ACTOR = { actorType: 'system' as const, actorName: 'tether-server', ip: null };

/** Codes after which the device's part is simply queued again (with backoff): nothing is wrong with the transfer itself. */
const TRANSIENT: readonly ErrorCode[] = ['COMMAND_INTERRUPTED', 'COMMAND_EXPIRED', 'SERVER_UNREACHABLE', 'TRANSFER_NOT_ACTIVE', 'CHUNK_NOT_READY', 'RATE_LIMITED', 'INTERNAL'];
const REQUEUE_BACKOFF = { baseMs: 1000, maxMs: 30_000 };
const PROGRESS_EVERY_MS = 250;
const COMMAND_GRACE_MS = 60_000;
const BATCH = 200;

/** What a transaction decided that must happen once it committed. */
export class Effects {
  readonly queued: QueuedCommand[] = [];
  readonly commandChanges: StateChange[] = [];
  readonly wake = new Set<string>();
  readonly announce = new Set<string>();
  readonly purge = new Set<string>();
  readonly drops: { id: string; from: number; to: number }[] = [];
}

/**
 * The transfer state machine and its scheduler: queued → running ⇄ paused → completed |
 * failed | canceled. Every change happens inside a transaction together with its audit
 * entry and the device command that does the agent's part; what must follow the commit
 * (telling consoles, waking the device, deleting spooled chunks) is collected in
 * `Effects` and applied by `apply`. At most `maxPerDevice` transfers of a device and
 * `maxOverall` in all run at once; the rest wait in arrival order.
 */
export class TransferLifecycle {
  /** Emits a transfer's id when it moved (a chunk arrived, its state changed): waiting content requests re-check. */
  readonly moved = new EventEmitter();
  /** Chunks passing straight from sender to receiver (the stream-through). */
  readonly handoff: ChunkHandoff;
  private readonly lastProgress = new Map<string, number>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly commands: CommandService,
    private readonly spool: TransferSpool,
  ) {
    this.moved.setMaxListeners(0);
    this.handoff = new ChunkHandoff({ ackWaitMs: ctx.config.transfers.streamAckWaitMs, nextAskMs: ctx.config.transfers.streamNextAskMs });
  }

  /** Starts queued transfers while there are free slots. */
  async promote(trx: Trx, effects: Effects, now: number): Promise<void> {
    const { maxPerDevice, maxOverall } = this.ctx.config.transfers;
    const running = await trx
      .selectFrom('transfers')
      .select('device_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'running')
      .groupBy('device_id')
      .execute();
    const perDevice = new Map(running.map((r) => [r.device_id, Number(r.n)]));
    let overall = running.reduce((sum, r) => sum + Number(r.n), 0);
    if (overall >= maxOverall) return;
    const queued = await trx.selectFrom('transfers').selectAll().where('state', '=', 'queued').orderBy('queued_at').orderBy('id').limit(BATCH).execute();
    for (const row of queued) {
      if (overall >= maxOverall) break;
      const busy = perDevice.get(row.device_id) ?? 0;
      if (busy >= maxPerDevice) continue;
      await this.startIn(trx, row, effects, now);
      perDevice.set(row.device_id, busy + 1);
      overall += 1;
    }
  }

  /** Queues the device command for a transfer's agent part and marks it running. */
  async startIn(trx: Trx, row: TransferRow, effects: Effects, now: number): Promise<void> {
    const command = row.direction === 'to-device'
      ? { name: 'receive-file' as const, params: { transferId: row.id, path: row.device_path, overwrite: row.overwrite === 1 } }
      : { name: 'send-file' as const, params: { transferId: row.id, path: row.device_path } };
    const queued = await this.commands.enqueueIn(
      trx,
      // outlives the transfer a little: the transfer's own expiry (which tells the device to clean up) comes first
      { deviceId: row.device_id, customerId: row.customer_id, name: command.name, params: command.params, sessionId: row.session_id, ttlMs: Math.max(0, Number(row.expires_at) - now) + COMMAND_GRACE_MS },
      SYSTEM_ACTOR,
    );
    const updated = await trx
      .updateTable('transfers')
      .set({ state: 'running', command_id: queued.command.id, attempts: Number(row.attempts) + 1, retry_at: null, error: null, updated_at: now })
      .where('id', '=', row.id)
      .where('state', '=', row.state)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) throw new Error(`transfer ${row.id} changed while it was being started`);
    // the console that asked for a device's file is about to ask for its chunks: the sender gives it a moment
    if (row.direction === 'from-device') this.handoff.expect(row.id);
    effects.queued.push(queued);
    effects.announce.add(row.id);
  }

  /**
   * Stops a transfer: `paused` keeps everything for a resume; `failed` keeps the held
   * chunks for a retry (until the TTL); `canceled` and an expiry purge them and forget the
   * key. The device command doing its part is canceled either way.
   */
  async stopIn(trx: Trx, row: TransferRow, to: 'paused' | 'failed' | 'canceled', error: TransferError | null, effects: Effects, now: number): Promise<boolean> {
    const purge = to === 'canceled' || error?.code === 'TRANSFER_EXPIRED';
    const updated = await trx
      .updateTable('transfers')
      .set({
        state: to,
        error: error ? JSON.stringify(error) : null,
        retry_at: null,
        updated_at: now,
        ...(purge ? { spool_key: null } : {}),
      })
      .where('id', '=', row.id)
      .where('state', '=', row.state)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return false;
    if (row.command_id) {
      const change = await this.commands.cancelIn(trx, row.command_id, row.customer_id, to === 'paused' ? 'transfer paused' : `transfer ${to}`);
      if (change) effects.commandChanges.push(change);
      effects.wake.add(row.device_id);
    }
    effects.announce.add(row.id);
    if (purge) effects.purge.add(row.id);
    return true;
  }

  /**
   * A to-device transfer canceled while no device command runs for it (paused, failed):
   * the agent still keeps a partial file, so it is sent the command once more — it finds
   * the transfer canceled and deletes what it kept. Only while the session is active
   * (the agent runs nothing without a grant); otherwise the agent cleans up at its next
   * transfer.
   */
  async cleanupIn(trx: Trx, row: TransferRow, effects: Effects, now: number): Promise<void> {
    if (row.direction !== 'to-device' || (row.state !== 'paused' && row.state !== 'failed')) return;
    const session = await trx.selectFrom('service_sessions').select('id').where('id', '=', row.session_id).where('state', '=', 'active').where('expires_at', '>', now).executeTakeFirst();
    if (!session) return;
    effects.queued.push(
      await this.commands.enqueueIn(
        trx,
        { deviceId: row.device_id, customerId: row.customer_id, name: 'receive-file', params: { transferId: row.id, path: row.device_path, overwrite: row.overwrite === 1 }, sessionId: row.session_id, ttlMs: 10 * 60_000 },
        SYSTEM_ACTOR,
      ),
    );
  }

  /** The receiver verified the whole file: done, and nothing of it stays on the server. */
  async completeIn(trx: Trx, row: TransferRow, actor: TransferActor, effects: Effects, now: number): Promise<void> {
    const total = row.size === null ? 0 : Math.ceil(Number(row.size) / Number(row.chunk_size));
    await trx
      .updateTable('transfers')
      .set({ state: 'completed', completed_at: now, updated_at: now, delivered_chunks: total, uploaded_bytes: Number(row.size ?? 0), spool_key: null, retry_at: null, error: null })
      .where('id', '=', row.id)
      .execute();
    await this.audit(trx, row, actor, 'transfer.complete', 'ok', { size: Number(row.size ?? 0), sha256: row.sha256 });
    effects.announce.add(row.id);
    effects.purge.add(row.id);
  }

  /** Fails a transfer with an audit entry saying why. */
  async failIn(trx: Trx, row: TransferRow, error: TransferError, actor: TransferActor, effects: Effects, now: number): Promise<void> {
    if (await this.stopIn(trx, row, 'failed', error, effects, now)) {
      await this.audit(trx, row, actor, 'transfer.fail', 'failed', { code: error.code, message: error.message });
    }
  }

  /** Ends the session's unfinished transfers (canceled with the session's cause). */
  async stopForSession(trx: Trx, sessionId: string, cause: SessionEndCause, effects: Effects, now: number): Promise<void> {
    const rows = await trx.selectFrom('transfers').selectAll().where('session_id', '=', sessionId).where('state', 'in', ['queued', 'running', 'paused', 'failed']).execute();
    const error: TransferError = { code: 'SESSION_ENDED', message: `the session ended: ${END_CAUSE_TEXT[cause]}` };
    for (const row of rows) {
      if (row.state === 'failed') {
        // nothing runs, but what it held goes now: it can no longer be retried
        await trx.updateTable('transfers').set({ spool_key: null, updated_at: now }).where('id', '=', row.id).execute();
        effects.purge.add(row.id);
        continue;
      }
      if (await this.stopIn(trx, row, 'canceled', error, effects, now)) {
        await this.audit(trx, row, SYSTEM_ACTOR, 'transfer.cancel', 'ok', { cause });
      }
    }
  }

  /**
   * The device command of a running transfer ended. An interruption (agent restart,
   * network, the agent stopping it on its way down) queues the agent's part again with
   * backoff — the agent resumes from its own saved state; anything else fails the
   * transfer with the device's reason.
   */
  async commandEndedIn(trx: Trx, row: TransferRow, effects: Effects, now: number): Promise<void> {
    if (row.state !== 'running' || !row.command_id) return;
    const command = await trx.selectFrom('commands').select(['state', 'error', 'cancel_requested']).where('id', '=', row.command_id).executeTakeFirst();
    if (!command || !['succeeded', 'failed', 'expired', 'canceled'].includes(command.state)) return;
    if (command.state === 'succeeded') return; // the sender is done, or the receiver already acknowledged the whole file
    const reported = command.error ? (JSON.parse(command.error) as TransferError) : undefined;
    const deviceActor: TransferActor = { actorType: 'device', actorId: row.device_id, actorName: null, ip: null };
    if (command.state === 'canceled' && !reported && command.cancel_requested === 1) {
      await this.failIn(trx, row, { code: 'COMMAND_FAILED', message: 'the device command doing this transfer was canceled' }, SYSTEM_ACTOR, effects, now);
      return;
    }
    const error: TransferError = reported ?? { code: 'COMMAND_INTERRUPTED', message: `the device command ended ${command.state}` };
    const transient = TRANSIENT.includes(error.code) || (command.state === 'canceled' && !reported);
    if (!transient) {
      await this.failIn(trx, row, error, deviceActor, effects, now);
      return;
    }
    if (Number(row.attempts) > this.ctx.config.transfers.maxAutoRetries) {
      await this.failIn(trx, row, { code: error.code, message: `${error.message} (gave up after ${row.attempts} attempts)` }, SYSTEM_ACTOR, effects, now);
      return;
    }
    const retryAt = now + backoffDelay(REQUEUE_BACKOFF, Number(row.attempts) - 1);
    await trx.updateTable('transfers').set({ command_id: null, retry_at: retryAt, updated_at: now }).where('id', '=', row.id).where('command_id', '=', row.command_id).execute();
    effects.announce.add(row.id);
  }

  /**
   * Expiry, due re-queues, device commands whose end was not heard (a node restarted),
   * leftovers to purge, free slots. Idempotent; every node may run it.
   */
  async sweep(now: number): Promise<void> {
    const effects = new Effects();
    await this.ctx.db.transaction().execute(async (trx) => {
      const expired = await trx
        .selectFrom('transfers')
        .selectAll()
        .where('expires_at', '<=', now)
        .where((eb) => eb.or([eb('state', 'in', ['queued', 'running', 'paused']), eb('spool_key', 'is not', null)]))
        .limit(BATCH)
        .execute();
      for (const row of expired) {
        if (row.state === 'failed' || row.state === 'completed' || row.state === 'canceled') {
          await trx.updateTable('transfers').set({ spool_key: null, updated_at: now }).where('id', '=', row.id).execute();
          effects.purge.add(row.id);
          continue;
        }
        await this.failIn(trx, row, { code: 'TRANSFER_EXPIRED', message: 'the transfer did not finish within its time limit; what the server held is deleted' }, SYSTEM_ACTOR, effects, now);
      }
      const stale = await trx
        .selectFrom('transfers as t')
        .innerJoin('commands as c', 'c.id', 't.command_id')
        .selectAll('t')
        .where('t.state', '=', 'running')
        .where('c.state', 'in', ['failed', 'expired', 'canceled'])
        .limit(BATCH)
        .execute();
      for (const row of stale) await this.commandEndedIn(trx, row, effects, now);
      const due = await trx.selectFrom('transfers').selectAll().where('state', '=', 'running').where('command_id', 'is', null).where('retry_at', '<=', now).limit(BATCH).execute();
      for (const row of due) await this.startIn(trx, row, effects, now);
      await this.promote(trx, effects, now);
    });
    const leftovers = await this.ctx.db
      .selectFrom('transfers')
      .select('id')
      .where('state', 'in', ['completed', 'failed', 'canceled'])
      .where('spool_key', 'is', null)
      .where('purged_at', 'is', null)
      .limit(BATCH)
      .execute();
    for (const { id } of leftovers) effects.purge.add(id);
    await this.apply(effects);
  }

  /** Does what committed transactions decided: tell consoles and devices, delete spooled chunks. */
  async apply(effects: Effects): Promise<void> {
    this.commands.announceQueued(effects.queued);
    await this.commands.announce(effects.commandChanges);
    for (const deviceId of effects.wake) this.ctx.bus.publish('device.wake', { deviceId });
    for (const drop of effects.drops) await this.spool.dropChunks(drop.id, drop.from, drop.to);
    if (effects.purge.size) {
      for (const id of effects.purge) await this.spool.purge(id);
      await this.ctx.db.updateTable('transfers').set({ purged_at: Date.now() }).where('id', 'in', [...effects.purge]).where('purged_at', 'is', null).execute();
    }
    if (effects.announce.size) {
      const rows = await transfersWithNames(this.ctx.db).where('t.id', 'in', [...effects.announce]).execute();
      for (const row of rows) {
        publishLive(this.ctx.bus, row.customer_id, { type: 'transfer.state', deviceId: row.device_id, transfer: toTransferView(row) });
        if (row.state !== 'running') {
          this.lastProgress.delete(row.id);
          this.handoff.forget(row.id);
        }
        this.moved.emit(row.id);
      }
    }
  }

  /** Live progress, at most a few times a second per transfer (the last chunk always). */
  progress(row: TransferRow, final: boolean): void {
    this.moved.emit(row.id);
    const now = Date.now();
    if (!final && now - (this.lastProgress.get(row.id) ?? 0) < PROGRESS_EVERY_MS) return;
    this.lastProgress.set(row.id, now);
    publishLive(this.ctx.bus, row.customer_id, {
      type: 'transfer.progress',
      transferId: row.id,
      deviceId: row.device_id,
      uploadedBytes: Number(row.uploaded_bytes),
      deliveredBytes: deliveredBytes(row),
    });
  }

  /** One audit entry about a transfer: who, which device, which path and way; never content. */
  async audit(trx: Trx, row: Pick<TransferRow, 'id' | 'device_id' | 'device_path' | 'direction' | 'session_id'>, actor: TransferActor, action: string, outcome: AuditInput['outcome'], detail: Record<string, unknown> = {}): Promise<void> {
    await this.ctx.audit.appendIn(trx, {
      ...actor,
      action,
      targetType: 'device',
      targetId: row.device_id,
      outcome,
      detail: { transferId: row.id, sessionId: row.session_id, direction: row.direction, path: row.device_path, ...detail },
    });
  }
}
