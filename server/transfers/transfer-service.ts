import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { TetherError } from '#contract/errors';
import type { CreateTransferRequestSchema, TransferAck, TransferDetail, TransferView } from '#contract/api/transfers';
import { DEVICE_MODELS, isDeviceModelId } from '#contract/device-models';
import type { AgentTransfer } from '#contract/protocol/transfers';
import type { SessionEndCause } from '#contract/sessions';
import { TRANSFER_CHUNK_BYTES, baseName, checkDevicePath, chunkRange, type TransferManifest, type TransferState } from '#contract/transfers';
import type { z } from 'zod';
import type { ServerContext } from '../context.ts';
import { type Principal, can, scopeFilter } from '../access/principal.ts';
import type { CommandService } from '../commands/command-service.ts';
import type { FleetService } from '../devices/fleet-service.ts';
import type { SessionGate } from '../sessions/session-gate.ts';
import type { SessionParticipant } from '../sessions/session-participant.ts';
import type { Database, DeviceRow, ServiceSessionRow, TransferRow } from '../store/schema.ts';
import { BandwidthLimiter, type ChunkContent, waitForChunk } from './content.ts';
import type { ChunkHandoff } from './handoff.ts';
import { Effects, SYSTEM_ACTOR, TransferLifecycle } from './lifecycle.ts';
import { type TransferParty, TransferAccess, partyActor, userActor } from './access.ts';
import { TransferSpool, newSpoolKey } from './spool.ts';
import type { UploadLedger, UploadTarget } from './spool-store.ts';
import { manifestOf, toAgentTransfer, toTransferDetail, toTransferView, transfersWithNames, uploadedChunks } from './views.ts';

type Trx = Transaction<Database>;
type CreateTransferInput = z.output<typeof CreateTransferRequestSchema>;

/**
 * File transfers between consoles and devices, relayed through an encrypted spool. A
 * transfer belongs to a device and to the active service session (with the `files`
 * scope) it was started in. The sender declares a manifest, uploads with tus; the
 * receiver fetches chunk by chunk, verifies, acknowledges — and the server forgets
 * every byte once the receiver has the whole file. Only the session's controller (for the
 * console side) and the device's own agent (for the device side) touch a transfer's
 * bytes; everything is audited, never the content.
 */
export class TransferService implements SessionParticipant, UploadLedger {
  readonly spool: TransferSpool;
  readonly lifecycle: TransferLifecycle;
  readonly access: TransferAccess;
  readonly handoff: ChunkHandoff;
  private readonly bandwidth: BandwidthLimiter;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly ctx: ServerContext,
    private readonly fleet: FleetService,
    private readonly commands: CommandService,
    private readonly sessions: SessionGate,
  ) {
    this.spool = new TransferSpool(ctx.config.transfers.spoolDir ?? `${ctx.config.dataDir}/transfers`);
    this.lifecycle = new TransferLifecycle(ctx, commands, this.spool);
    this.access = new TransferAccess(ctx, fleet, sessions, this.lifecycle);
    this.handoff = this.lifecycle.handoff;
    this.bandwidth = new BandwidthLimiter(ctx.config.transfers.bandwidthBytesPerSec);
    this.unsubscribe = ctx.bus.subscribe('live', ({ event }) => {
      if (event.type !== 'command.state' || (event.command.name !== 'send-file' && event.command.name !== 'receive-file')) return;
      const { id, state } = event.command;
      if (!['succeeded', 'failed', 'expired', 'canceled'].includes(state)) return;
      this.onCommandEnded(id).catch((err: unknown) => ctx.log.error({ err, commandId: id }, 'could not act on a transfer command’s end'));
    });
  }

  close(): void {
    this.unsubscribe();
  }

  /** Starts a transfer in the caller's session: to-device with its manifest, from-device by path. */
  async create(principal: Principal, deviceId: string, input: CreateTransferInput, ip: string | null): Promise<TransferDetail> {
    let device: DeviceRow;
    try {
      device = await this.fleet.requireDevice(principal, deviceId);
      if (!can(principal, 'command')) throw new TetherError('FORBIDDEN', `your role (${principal.role}) may not transfer files`);
      await this.sessions.requireControlledSession(principal, input.sessionId, deviceId, 'files');
      const rules = isDeviceModelId(device.model_id) ? DEVICE_MODELS[device.model_id].files : undefined;
      if (!rules) throw new TetherError('VALIDATION_FAILED', 'this device model offers no file work');
      checkDevicePath(input.devicePath, rules.roots);
      if (rules.roots.includes(input.devicePath)) throw new TetherError('PATH_NOT_ALLOWED', `${input.devicePath} is a folder; name a file inside it`);
      if (input.direction === 'to-device' && input.manifest.size > rules.maxFileBytes) {
        throw new TetherError('FILE_TOO_LARGE', `the file is ${input.manifest.size} bytes; this device accepts at most ${rules.maxFileBytes}`, { maxFileBytes: rules.maxFileBytes });
      }
    } catch (err) {
      if (err instanceof TetherError) await this.access.refused(principal, deviceId, input, err, ip);
      throw err;
    }
    const now = Date.now();
    const id = randomUUID();
    const manifest = input.direction === 'to-device' ? input.manifest : null;
    const effects = new Effects();
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('transfers')
        .values({
          id,
          device_id: deviceId,
          customer_id: device.customer_id,
          session_id: input.sessionId,
          direction: input.direction,
          device_path: input.devicePath,
          file_name: input.direction === 'to-device' ? input.fileName : baseName(input.devicePath),
          overwrite: input.direction === 'to-device' && input.overwrite ? 1 : 0,
          state: 'queued',
          created_by: principal.id,
          created_at: now,
          updated_at: now,
          queued_at: now,
          completed_at: null,
          expires_at: now + Math.round(this.ctx.config.transfers.ttlHours * 3_600_000),
          chunk_size: manifest?.chunkSize ?? TRANSFER_CHUNK_BYTES,
          size: manifest?.size ?? null,
          sha256: manifest?.sha256 ?? null,
          chunks: manifest ? JSON.stringify(manifest.chunks) : null,
          uploaded_bytes: 0,
          delivered_chunks: 0,
          spool_key: newSpoolKey(),
          purged_at: null,
          command_id: null,
          attempts: 0,
          retry_at: null,
          error: null,
        })
        .execute();
      await this.lifecycle.audit(trx, { id, device_id: deviceId, device_path: input.devicePath, direction: input.direction, session_id: input.sessionId }, userActor(principal, ip), 'transfer.create', 'ok', {
        ...(manifest ? { size: manifest.size, sha256: manifest.sha256 } : {}),
      });
      effects.announce.add(id);
      await this.lifecycle.promote(trx, effects, now);
    });
    await this.lifecycle.apply(effects);
    return this.detail(id);
  }

  /** A device's transfers, newest first. */
  async listForDevice(principal: Principal, deviceId: string, query: { limit: number; state?: string | undefined }): Promise<TransferView[]> {
    await this.fleet.requireDevice(principal, deviceId);
    let q = transfersWithNames(this.ctx.db).where('t.device_id', '=', deviceId);
    const states = parseStates(query.state);
    if (states) q = q.where('t.state', 'in', states);
    return (await q.orderBy('t.created_at', 'desc').limit(query.limit).execute()).map(toTransferView);
  }

  /** The caller's own transfers (the console's transfers panel), newest first. */
  async listMine(principal: Principal, query: { limit: number; state?: string | undefined }): Promise<TransferView[]> {
    const scope = scopeFilter(principal);
    if (scope && !scope.length) return [];
    let q = transfersWithNames(this.ctx.db).where('t.created_by', '=', principal.id);
    if (scope) q = q.where('t.customer_id', 'in', scope);
    const states = parseStates(query.state);
    if (states) q = q.where('t.state', 'in', states);
    return (await q.orderBy('t.created_at', 'desc').limit(query.limit).execute()).map(toTransferView);
  }

  async get(principal: Principal, id: string): Promise<TransferDetail> {
    await this.access.visible(principal, id);
    return this.detail(id);
  }

  /** Holds a queued or running transfer: the device stops (keeping its progress), so does the console. */
  async pause(principal: Principal, id: string, ip: string | null): Promise<TransferView> {
    return this.act(principal, id, ip, 'transfer.pause', ['queued', 'running'], async (trx, row, effects, now) => {
      await this.lifecycle.stopIn(trx, row, 'paused', null, effects, now);
      await this.lifecycle.promote(trx, effects, now);
    });
  }

  /** Continues a paused transfer: it queues for a slot, and the device resumes from its saved state. */
  async resume(principal: Principal, id: string, ip: string | null): Promise<TransferView> {
    return this.act(principal, id, ip, 'transfer.resume', ['paused'], async (trx, row, effects, now) => {
      await trx.updateTable('transfers').set({ state: 'queued', queued_at: now, updated_at: now }).where('id', '=', row.id).where('state', '=', 'paused').execute();
      effects.announce.add(row.id);
      await this.lifecycle.promote(trx, effects, now);
    });
  }

  /** Tries a failed transfer again from the last chunk the receiver verified. */
  async retry(principal: Principal, id: string, ip: string | null): Promise<TransferView> {
    return this.act(principal, id, ip, 'transfer.retry', ['failed'], async (trx, row, effects, now) => {
      if (row.spool_key === null || Number(row.expires_at) <= now) throw new TetherError('TRANSFER_EXPIRED', 'this transfer can no longer be retried; start a new one');
      await trx.updateTable('transfers').set({ state: 'queued', queued_at: now, updated_at: now, error: null, attempts: 0 }).where('id', '=', row.id).where('state', '=', 'failed').execute();
      effects.announce.add(row.id);
      await this.lifecycle.promote(trx, effects, now);
    });
  }

  /** Ends a transfer for good: the device drops its partial file, the server what it held. */
  async cancel(principal: Principal, id: string, ip: string | null): Promise<TransferView> {
    return this.act(principal, id, ip, 'transfer.cancel', ['queued', 'running', 'paused', 'failed'], async (trx, row, effects, now) => {
      await this.lifecycle.stopIn(trx, row, 'canceled', { code: 'TRANSFER_NOT_ACTIVE', message: `canceled by ${principal.username}` }, effects, now);
      await this.lifecycle.cleanupIn(trx, row, effects, now);
      await this.lifecycle.promote(trx, effects, now);
    }, can(principal, 'admin'));
  }

  /** The agent's view of one of its device's transfers. */
  async agentView(device: DeviceRow, id: string, ip: string | null): Promise<AgentTransfer> {
    return toAgentTransfer(await this.access.forAgent(device, id, ip));
  }

  /** From-device: the agent declares what it sends; the upload can start. A repeat of the same manifest is accepted. */
  async declareManifest(device: DeviceRow, id: string, manifest: TransferManifest, ip: string | null): Promise<AgentTransfer> {
    const row = await this.access.forAgent(device, id, ip);
    if (row.direction !== 'from-device') throw new TetherError('CONFLICT', 'the console declares the manifest of a transfer to the device');
    const rules = isDeviceModelId(device.model_id) ? DEVICE_MODELS[device.model_id].files : undefined;
    if (rules && manifest.size > rules.maxFileBytes) throw new TetherError('FILE_TOO_LARGE', `the file is larger than this model may send (${rules.maxFileBytes} bytes)`);
    if (manifest.chunkSize !== Number(row.chunk_size)) throw new TetherError('VALIDATION_FAILED', `this transfer moves ${row.chunk_size}-byte chunks`);
    const known = manifestOf(row);
    if (known) {
      if (known.sha256 !== manifest.sha256 || known.size !== manifest.size) throw new TetherError('CONFLICT', 'a different file was declared for this transfer already (did it change on the device?)');
      return toAgentTransfer(row);
    }
    if (row.state !== 'running') throw new TetherError('TRANSFER_NOT_ACTIVE', `the transfer is ${row.state}`);
    await this.ctx.db
      .updateTable('transfers')
      .set({ size: manifest.size, sha256: manifest.sha256, chunks: JSON.stringify(manifest.chunks), updated_at: Date.now() })
      .where('id', '=', id)
      .where('size', 'is', null)
      .execute();
    const effects = new Effects();
    effects.announce.add(id);
    await this.lifecycle.apply(effects);
    return toAgentTransfer(await this.row(id));
  }

  /**
   * One chunk for the receiver, waiting briefly for one still on its way. Only the
   * receiving side may read: the device's agent for to-device, the controller for from-device.
   */
  async content(party: TransferParty, id: string, range: string | undefined, signal: AbortSignal): Promise<ChunkContent> {
    const first = await this.access.authorizeParty(party, id, 'receive');
    const { row, index, live } = await waitForChunk(
      () => this.row(first.id),
      range,
      (wake) => once(this.lifecycle.moved, id, { signal: wake }).then(() => undefined, () => undefined),
      this.ctx.config.transfers.contentWaitMs,
      signal,
      this.ctx.config.transfers.streamThrough
        ? {
            // past the chunks still on their way to an acknowledgement: the receiver may ask ahead
            next: (row) => Math.max(uploadedChunks(row), this.handoff.streamedCount(id)),
            take: (next, waitMs, wake) => this.handoff.ask(id, next, waitMs, wake),
          }
        : undefined,
    );
    const manifest = manifestOf(row)!;
    let stream: Readable;
    if (live) {
      stream = live;
    } else {
      if (!row.spool_key) throw new TetherError('TRANSFER_NOT_ACTIVE', 'the transfer no longer holds any data');
      ({ stream } = await this.spool.streamChunk(id, index, row.spool_key, (err) => {
        this.failDamaged(id, err).catch((failure: unknown) => this.ctx.log.error({ err: failure, transferId: id }, 'could not fail a transfer with a damaged chunk'));
      }));
    }
    const { start, end } = chunkRange(index, manifest.size, manifest.chunkSize);
    return { index, start, end, size: manifest.size, sha256: manifest.chunks[index]!, body: this.bandwidth.pace(id, stream) };
  }

  /**
   * The receiver verified chunks [0, verifiedChunks): the server deletes them. With
   * `complete` (and the whole file's hash) the transfer is done and purged.
   */
  async ack(party: TransferParty, id: string, ack: TransferAck, signal?: AbortSignal): Promise<TransferView> {
    await this.access.authorizeParty(party, id, 'receive');
    await this.untilSent(id, ack.verifiedChunks, signal);
    const effects = new Effects();
    const now = Date.now();
    let streamedUpTo: number | undefined;
    const outcome = await this.ctx.db.transaction().execute(async (trx): Promise<'progress' | 'complete' | 'mismatch'> => {
      const row = await trx.selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      if (row.state === 'completed' && ack.complete) return 'complete'; // a repeated final ack
      if (row.state !== 'running') throw new TetherError('TRANSFER_NOT_ACTIVE', `the transfer is ${row.state}`, { state: row.state });
      const manifest = manifestOf(row);
      if (!manifest) throw new TetherError('CONFLICT', 'nothing was declared for this transfer yet');
      const held = uploadedChunks(row);
      // chunks that went straight through are not counted as sent until their acknowledgement
      const sent = Math.max(held, this.handoff.streamedCount(id));
      if (ack.verifiedChunks > sent) throw new TetherError('VALIDATION_FAILED', `only ${sent} chunk(s) were sent so far; ${ack.verifiedChunks} cannot have been verified`);
      if (ack.verifiedChunks > held) {
        const { end } = chunkRange(ack.verifiedChunks - 1, manifest.size, manifest.chunkSize);
        await trx.updateTable('transfers').set({ uploaded_bytes: end }).where('id', '=', id).where('uploaded_bytes', '=', Number(row.uploaded_bytes)).execute();
        row.uploaded_bytes = end;
        streamedUpTo = ack.verifiedChunks;
      }
      const before = Number(row.delivered_chunks);
      if (ack.verifiedChunks > before) {
        await trx.updateTable('transfers').set({ delivered_chunks: ack.verifiedChunks, updated_at: now }).where('id', '=', id).execute();
        effects.drops.push({ id, from: before, to: ack.verifiedChunks });
      }
      if (!ack.complete) return 'progress';
      if (ack.verifiedChunks !== manifest.chunks.length || ack.sha256 !== manifest.sha256) {
        await this.lifecycle.failIn(trx, row, { code: 'CHECKSUM_MISMATCH', message: 'the receiver’s file does not match the declared SHA-256' }, partyActor(party), effects, now);
        return 'mismatch';
      }
      await this.lifecycle.completeIn(trx, row, partyActor(party), effects, now);
      await this.lifecycle.promote(trx, effects, now);
      return 'complete';
    });
    if (streamedUpTo !== undefined) this.handoff.acknowledged(id, streamedUpTo);
    await this.lifecycle.apply(effects);
    if (outcome === 'mismatch') throw new TetherError('CHECKSUM_MISMATCH', 'the received file does not match the declared SHA-256; the transfer failed');
    const view = await transfersWithNames(this.ctx.db).where('t.id', '=', id).executeTakeFirstOrThrow();
    // the chunk that went straight through moved the sender's offset too: its last one is always told
    if (outcome === 'progress') this.lifecycle.progress(view, streamedUpTo !== undefined && Number(view.uploaded_bytes) === Number(view.size));
    return toTransferView(view);
  }

  /**
   * Waits (as a content request waits for its chunk) until the server counts `chunks` as
   * sent. A receiver may hold chunks the server no longer counts: they went straight
   * through, and a server restart forgot them before their acknowledgement. The sender
   * sends them again from the committed offset; the acknowledgement goes through once they
   * are here, or the receiver is told to ask again (CHUNK_NOT_READY).
   */
  private async untilSent(id: string, chunks: number, signal: AbortSignal | undefined): Promise<void> {
    const deadline = Date.now() + this.ctx.config.transfers.contentWaitMs;
    for (;;) {
      const row = await this.row(id);
      // a transfer that stopped, or was never declared, is answered by the acknowledgement itself
      if (row.state !== 'running' || !manifestOf(row)) return;
      const sent = Math.max(uploadedChunks(row), this.handoff.streamedCount(id));
      if (chunks <= sent) return;
      const left = deadline - Date.now();
      if (left <= 0 || signal?.aborted) {
        throw new TetherError('CHUNK_NOT_READY', `the server has ${sent} chunk(s) of this transfer so far, not ${chunks}; acknowledge again once the sender has sent them`, {
          uploadedBytes: Number(row.uploaded_bytes),
        });
      }
      // a chunk committed on another node is not signalled here: look again at least every second
      const wake = AbortSignal.any([AbortSignal.timeout(Math.min(left, 1000)), ...(signal ? [signal] : [])]);
      await once(this.lifecycle.moved, id, { signal: wake }).catch(() => undefined);
    }
  }

  /** Before a tus request is handed on: only the sending side may write (or look at) the upload. */
  async authorizeUpload(party: TransferParty, id: string): Promise<void> {
    await this.access.authorizeParty(party, id, 'send');
  }

  async uploadTarget(transferId: string): Promise<UploadTarget> {
    const row = await this.row(transferId);
    const manifest = manifestOf(row);
    if (row.state !== 'running') throw new TetherError('TRANSFER_NOT_ACTIVE', `the transfer is ${row.state}`, { state: row.state });
    if (!manifest) throw new TetherError('CONFLICT', 'declare the manifest before uploading');
    if (!row.spool_key) throw new TetherError('TRANSFER_NOT_ACTIVE', 'the transfer no longer accepts data');
    return { size: manifest.size, chunkSize: manifest.chunkSize, chunks: manifest.chunks, key: row.spool_key, uploadedBytes: Number(row.uploaded_bytes), createdAt: Number(row.created_at) };
  }

  async commitChunk(transferId: string, index: number, uploadedBytes: number): Promise<void> {
    const row = await this.row(transferId);
    const updated = await this.ctx.db
      .updateTable('transfers')
      .set({ uploaded_bytes: uploadedBytes, updated_at: Date.now() })
      .where('id', '=', transferId)
      .where('state', '=', 'running')
      .where('uploaded_bytes', '=', index * Number(row.chunk_size))
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) throw new TetherError('TRANSFER_NOT_ACTIVE', `the transfer is ${row.state}; chunk ${index} was not taken`);
    this.lifecycle.progress({ ...row, uploaded_bytes: uploadedBytes }, uploadedBytes === Number(row.size));
  }

  /** Ends the session's unfinished transfers inside the session's closing transaction. */
  async stopForSession(trx: Trx, session: ServiceSessionRow, cause: SessionEndCause, now: number): Promise<void> {
    // the effects are found again after the commit by afterSessionsChanged
    await this.lifecycle.stopForSession(trx, session.id, cause, new Effects(), now);
  }

  /** After the commit: purge what the ended transfers held, announce them, start queued ones. */
  async afterSessionsChanged(sessionIds: readonly string[]): Promise<void> {
    if (!sessionIds.length) return;
    const ended = await this.ctx.db
      .selectFrom('transfers')
      .select(['id', 'device_id'])
      .where('session_id', 'in', [...sessionIds])
      .where('state', 'in', ['canceled', 'failed'])
      .where('spool_key', 'is', null)
      .where('purged_at', 'is', null)
      .execute();
    if (!ended.length) return;
    const effects = new Effects();
    for (const row of ended) {
      effects.purge.add(row.id);
      effects.announce.add(row.id);
      effects.wake.add(row.device_id);
    }
    await this.ctx.db.transaction().execute((trx) => this.lifecycle.promote(trx, effects, Date.now()));
    await this.lifecycle.apply(effects);
  }

  /** Runs every `sweepMs`: expiry, re-queues, purges, free slots. */
  sweep(now = Date.now()): Promise<void> {
    return this.lifecycle.sweep(now);
  }

  private async onCommandEnded(commandId: string): Promise<void> {
    const row = await this.ctx.db.selectFrom('transfers').select('id').where('command_id', '=', commandId).where('state', '=', 'running').executeTakeFirst();
    if (!row) return;
    const effects = new Effects();
    const now = Date.now();
    await this.ctx.db.transaction().execute(async (trx) => {
      const current = await trx.selectFrom('transfers').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
      if (current.command_id !== commandId) return;
      await this.lifecycle.commandEndedIn(trx, current, effects, now);
      if (current.state === 'running') await this.lifecycle.promote(trx, effects, now);
    });
    await this.lifecycle.apply(effects);
  }

  /** A held chunk failed its authentication: it cannot be delivered, so the transfer fails clearly. */
  private async failDamaged(id: string, err: TetherError): Promise<void> {
    const effects = new Effects();
    const now = Date.now();
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      if (row.state === 'running') await this.lifecycle.failIn(trx, row, { code: 'CHECKSUM_MISMATCH', message: err.message }, SYSTEM_ACTOR, effects, now);
    });
    await this.lifecycle.apply(effects);
  }

  /** A user action on a transfer: the session's controller (or, for a cancel, an administrator). */
  private async act(
    principal: Principal,
    id: string,
    ip: string | null,
    action: string,
    from: readonly TransferState[],
    change: (trx: Trx, row: TransferRow, effects: Effects, now: number) => Promise<void>,
    adminMayAct = false,
  ): Promise<TransferView> {
    const visible = await this.access.visible(principal, id);
    if (!can(principal, 'command')) throw await this.access.denied(visible, userActor(principal, ip), action, new TetherError('FORBIDDEN', `your role (${principal.role}) may not change transfers`));
    if (!adminMayAct || visible.created_by === principal.id) {
      try {
        await this.sessions.requireControlledSession(principal, visible.session_id, visible.device_id, 'files');
      } catch (err) {
        if (err instanceof TetherError) throw await this.access.denied(visible, userActor(principal, ip), action, err);
        throw err;
      }
    }
    const effects = new Effects();
    const now = Date.now();
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      if (!from.includes(row.state)) throw new TetherError('TRANSFER_NOT_ACTIVE', `the transfer is ${row.state}`, { state: row.state });
      await change(trx, row, effects, now);
      await this.lifecycle.audit(trx, row, userActor(principal, ip), action, 'ok');
    });
    await this.lifecycle.apply(effects);
    return toTransferView(await transfersWithNames(this.ctx.db).where('t.id', '=', id).executeTakeFirstOrThrow());
  }

  private async row(id: string): Promise<TransferRow> {
    const row = await this.ctx.db.selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new TetherError('NOT_FOUND', `no transfer ${id}`);
    return row;
  }

  private async detail(id: string): Promise<TransferDetail> {
    return toTransferDetail(await transfersWithNames(this.ctx.db).where('t.id', '=', id).executeTakeFirstOrThrow());
  }
}

/** `queued,running` → the states, ignoring unknown words. */
function parseStates(list: string | undefined): TransferState[] | undefined {
  if (!list) return undefined;
  const states = list.split(',').map((s) => s.trim()).filter((s): s is TransferState => ['queued', 'running', 'paused', 'completed', 'failed', 'canceled'].includes(s));
  return states.length ? states : undefined;
}
