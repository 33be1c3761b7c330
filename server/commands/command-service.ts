import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { TetherError } from '#contract/errors';
import { type CommandName, commandAppliesTo, commandSpec } from '#contract/protocol/commands';
import type { CommandDelivery, CommandProgress, CommandUpdate as AgentCommandUpdate } from '#contract/protocol/poll';
import type { LiveEvent } from '#contract/api/live';
import type { OutputLine } from '#contract/api/sessions';
import { END_CAUSE_TEXT, type SessionEndCause } from '#contract/sessions';
import type { CommandView } from '#contract/api/commands';
import type { CommandState } from '#contract/common';
import type { ServerContext } from '../context.ts';
import { type Principal, can } from '../access/principal.ts';
import type { FleetService } from '../devices/fleet-service.ts';
import { isoOf } from '../devices/views.ts';
import { publishLive } from '../live/publish.ts';
import type { SessionGate } from '../sessions/session-gate.ts';
import type { AfterSessionEnd, SessionParticipant } from '../sessions/session-participant.ts';
import type { CommandRow, Database, ServiceSessionRow } from '../store/schema.ts';
import { type CommandEvent, eventForReportedState, isTerminal, nextCommandState } from './state-machine.ts';

/** Most commands handed to one device in one poll answer. */
const DELIVERY_BATCH = 50;

/** A command queued inside a transaction, to announce once it committed: its whole view is known already. */
export interface QueuedCommand {
  command: CommandView;
  customerId: string;
}

/** A committed command state change, to announce to consoles. */
export interface StateChange {
  /** The command's row as the change left it. */
  command: CommandRow;
  customerId: string;
  /** The history row the change wrote: the announced view's history ends with it. */
  transitionId: number;
}

/** One step of a command's history, as the store keeps it. */
type TransitionRow = { state: CommandState; at: number; detail: string | null };

/**
 * Device commands as a durable state machine: queued → delivered → running → succeeded |
 * failed | expired | canceled. Every transition is written (with its history row) before
 * anyone is told, so a server killed at any point resumes where it was. Delivery is
 * at-least-once (unacknowledged commands are delivered again on the next poll) and the
 * agent runs each command id at most once, which together give exactly-once execution.
 */
export class CommandService implements SessionParticipant {
  constructor(
    private readonly ctx: ServerContext,
    private readonly fleet: FleetService,
    /** A privileged command runs only in an active session its creator controls, and travels with its grant. */
    private readonly sessions: SessionGate,
  ) {}

  async create(
    principal: Principal,
    deviceId: string,
    input: { name: CommandName; params: Record<string, unknown>; ttlSeconds?: number | undefined; sessionId?: string | undefined },
    ip: string | null,
  ): Promise<{ id: string; state: CommandState }> {
    const device = await this.fleet.requireDevice(principal, deviceId);
    if (!can(principal, 'command')) throw new TetherError('FORBIDDEN', `your role (${principal.role}) may not send commands`);
    // the tunnel service queues it with the tunnel's row and ticket; on its own it would open nothing
    if (input.name === 'open-tunnel') throw new TetherError('VALIDATION_FAILED', 'tunnels are opened with POST /api/v1/sessions/:id/tunnels, not as a command');
    const spec = commandSpec(input.name);
    if (!commandAppliesTo(input.name, device.model_id as never)) {
      throw new TetherError('VALIDATION_FAILED', `${spec.label} is not available on this model`);
    }
    const params = spec.params.safeParse(input.params);
    if (!params.success) {
      const detail = params.error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; ');
      throw new TetherError('VALIDATION_FAILED', `invalid parameters for ${input.name} — ${detail}`);
    }
    let sessionId: string | null = null;
    if (spec.privileged) {
      if (!spec.scope) throw new TetherError('SESSION_REQUIRED', 'privileged commands need a service session');
      sessionId = (await this.sessions.requireControlledSession(principal, input.sessionId, deviceId, spec.scope)).id;
    }
    const ttlMs = (input.ttlSeconds ?? this.ctx.config.commandTtlSeconds) * 1000;
    const queued = await this.ctx.db.transaction().execute((trx) =>
      this.enqueueIn(
        trx,
        { deviceId, customerId: device.customer_id, name: input.name, params: params.data as Record<string, unknown>, sessionId, ttlMs },
        { actorType: 'user', actorId: principal.id, actorName: principal.username, ip },
      ),
    );
    this.announceQueued([queued]);
    return { id: queued.command.id, state: 'queued' };
  }

  /**
   * Queues an already validated command inside the caller's transaction (its audit entry
   * commits with it). Call `announceQueued` after the commit so consoles and the device hear.
   */
  async enqueueIn(
    trx: Transaction<Database>,
    input: { deviceId: string; customerId: string; name: CommandName; params: Record<string, unknown>; sessionId: string | null; ttlMs: number },
    actor: { actorType: 'user' | 'system'; actorId?: string | null; actorName: string; ip: string | null },
  ): Promise<QueuedCommand> {
    const now = Date.now();
    const id = randomUUID();
    const row: CommandRow = {
      id,
      device_id: input.deviceId,
      name: input.name,
      params: JSON.stringify(input.params),
      state: 'queued',
      created_by: actor.actorName,
      created_at: now,
      updated_at: now,
      expires_at: now + input.ttlMs,
      attempts: 0,
      cancel_requested: 0,
      result: null,
      error: null,
      session_id: input.sessionId,
      progress: null,
      output_lines: 0,
    };
    const queued: TransitionRow = { state: 'queued', at: now, detail: `by ${actor.actorName}` };
    await trx.insertInto('commands').values(row).execute();
    await trx.insertInto('command_transitions').values({ command_id: id, ...queued }).execute();
    await this.ctx.audit.appendIn(trx, {
      ...actor,
      action: 'command.create',
      targetType: 'device',
      targetId: input.deviceId,
      outcome: 'ok',
      detail: { commandId: id, name: input.name, params: input.params, ...(input.sessionId ? { sessionId: input.sessionId } : {}) },
    });
    return { command: toView(row, [queued]), customerId: input.customerId };
  }

  /** Tells consoles about commands queued by `enqueueIn` and wakes their devices' held polls. */
  announceQueued(queued: readonly QueuedCommand[]): void {
    for (const q of queued) {
      publishLive(this.ctx.bus, q.customerId, { type: 'command.state', deviceId: q.command.deviceId, command: q.command });
      this.ctx.bus.publish('device.wake', { deviceId: q.command.deviceId });
    }
  }

  /**
   * Stops a command inside the caller's transaction: a queued one is canceled at once, a
   * delivered or running one is named in the device's next poll answer (wake it after the
   * commit). Returns the state change to announce, if any.
   */
  async cancelIn(trx: Transaction<Database>, commandId: string, customerId: string, detail: string): Promise<StateChange | undefined> {
    const row = await trx.selectFrom('commands').selectAll().where('id', '=', commandId).executeTakeFirst();
    if (!row || isTerminal(row.state)) return undefined;
    const now = Date.now();
    if (row.state === 'queued') return this.transition(trx, row, customerId, 'cancel', now, detail);
    await trx.updateTable('commands').set({ cancel_requested: 1, updated_at: now }).where('id', '=', commandId).execute();
    return undefined;
  }

  async get(principal: Principal, commandId: string): Promise<CommandView> {
    const row = await this.ctx.db.selectFrom('commands').selectAll().where('id', '=', commandId).executeTakeFirst();
    if (!row) throw new TetherError('NOT_FOUND', `no command ${commandId}`);
    await this.fleet.requireDevice(principal, row.device_id).catch(() => {
      throw new TetherError('NOT_FOUND', `no command ${commandId}`);
    });
    const history = await this.ctx.db.selectFrom('command_transitions').selectAll().where('command_id', '=', commandId).orderBy('id').execute();
    return toView(row, history);
  }

  async listForDevice(principal: Principal, deviceId: string, limit: number): Promise<CommandView[]> {
    await this.fleet.requireDevice(principal, deviceId);
    const rows = await this.ctx.db.selectFrom('commands').selectAll().where('device_id', '=', deviceId).orderBy('created_at', 'desc').limit(limit).execute();
    if (!rows.length) return [];
    const history = await this.ctx.db.selectFrom('command_transitions').selectAll().where('command_id', 'in', rows.map((r) => r.id)).orderBy('id').execute();
    return rows.map((r) => toView(r, history.filter((h) => h.command_id === r.id)));
  }

  /** Cancels a queued command at once; asks the agent to abort one it already has. */
  async cancel(principal: Principal, commandId: string, ip: string | null): Promise<CommandView> {
    const row = await this.ctx.db.selectFrom('commands').selectAll().where('id', '=', commandId).executeTakeFirst();
    if (!row) throw new TetherError('NOT_FOUND', `no command ${commandId}`);
    const device = await this.fleet.requireDevice(principal, row.device_id).catch(() => {
      throw new TetherError('NOT_FOUND', `no command ${commandId}`);
    });
    if (!can(principal, 'command')) throw new TetherError('FORBIDDEN', `your role (${principal.role}) may not cancel commands`);
    if (isTerminal(row.state)) throw new TetherError('COMMAND_NOT_CANCELABLE', `this command already ended (${row.state})`);
    const now = Date.now();
    const changes = await this.ctx.db.transaction().execute(async (trx) => {
      const audit = { actorType: 'user' as const, actorId: principal.id, actorName: principal.username, action: 'command.cancel', targetType: 'device', targetId: row.device_id, outcome: 'ok' as const, ip, detail: { commandId } };
      await this.ctx.audit.appendIn(trx, audit);
      if (row.state === 'queued') {
        const change = await this.transition(trx, row, device.customer_id, 'cancel', now, `by ${principal.username}`);
        return change ? [change] : [];
      }
      await trx.updateTable('commands').set({ cancel_requested: 1, updated_at: now }).where('id', '=', commandId).execute();
      return [];
    });
    await this.announce(changes);
    if (row.state !== 'queued') this.ctx.bus.publish('device.wake', { deviceId: row.device_id });
    return this.get(principal, commandId);
  }

  /**
   * Commands to hand to the device now: queued ones and delivered ones it never
   * acknowledged (lost answer, agent restart). Each is marked delivered before it leaves.
   */
  async takeDeliverable(deviceId: string, customerId: string): Promise<{ commands: CommandDelivery[]; cancels: string[] }> {
    // Most polls find nothing: one indexed read decides before any transaction is opened.
    const anything = await this.ctx.db
      .selectFrom('commands')
      .select('id')
      .where('device_id', '=', deviceId)
      .where((eb) => eb.or([eb('state', 'in', ['queued', 'delivered']), eb.and([eb('cancel_requested', '=', 1), eb('state', '=', 'running')])]))
      .limit(1)
      .executeTakeFirst();
    if (!anything) return { commands: [], cancels: [] };
    const now = Date.now();
    const { deliveries, changes, cancels } = await this.ctx.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('commands')
        .selectAll()
        .where('device_id', '=', deviceId)
        .where('state', 'in', ['queued', 'delivered'])
        .where('cancel_requested', '=', 0)
        .where('expires_at', '>', now)
        .orderBy('created_at')
        .limit(DELIVERY_BATCH)
        .execute();
      const out: CommandDelivery[] = [];
      const changed: StateChange[] = [];
      const sessionIds = [...new Set(rows.flatMap((r) => (r.session_id ? [r.session_id] : [])))];
      const sessions = sessionIds.length ? await trx.selectFrom('service_sessions').selectAll().where('id', 'in', sessionIds).execute() : [];
      for (const row of rows) {
        const session = row.session_id ? sessions.find((x) => x.id === row.session_id) : undefined;
        // a privileged command travels with its session's current grant (the agent checks it)
        const grant = session && session.state === 'active' ? await this.sessions.grantFor(session) : undefined;
        const detail = row.state === 'delivered' ? 'redelivered: not acknowledged by the agent' : null;
        const change = await this.transition(trx, row, customerId, 'deliver', now, detail, { attempts: Number(row.attempts) + 1 });
        if (row.state === 'queued' && change) changed.push(change);
        out.push({
          id: row.id,
          name: row.name as CommandName,
          params: JSON.parse(row.params) as Record<string, unknown>,
          ttlMs: Math.max(0, Number(row.expires_at) - now),
          attempt: Number(row.attempts) + 1,
          ...(row.session_id ? { sessionId: row.session_id } : {}),
          ...(grant ? { grant } : {}),
        });
      }
      const cancelRows = await trx
        .selectFrom('commands')
        .select('id')
        .where('device_id', '=', deviceId)
        .where('cancel_requested', '=', 1)
        .where('state', 'in', ['delivered', 'running'])
        .execute();
      return { deliveries: out, changes: changed, cancels: cancelRows.map((r) => r.id) };
    });
    await this.announce(changes);
    return { commands: deliveries, cancels };
  }

  /** Applies what the agent reported about its commands, inside the poll's transaction. */
  async applyAgentUpdates(
    trx: Transaction<Database>,
    deviceId: string,
    customerId: string,
    updates: readonly AgentCommandUpdate[],
  ): Promise<{ changes: StateChange[]; live: LiveEvent[] }> {
    const changes: StateChange[] = [];
    const live: LiveEvent[] = [];
    for (const update of updates) {
      let row = await trx.selectFrom('commands').selectAll().where('id', '=', update.id).where('device_id', '=', deviceId).executeTakeFirst();
      if (!row) continue; // not this device's command: ignore, never reveal others
      if ((update.progress || update.output?.length) && !isTerminal(row.state)) {
        const recorded = await this.recordProgress(trx, row, update.progress, update.output ?? []);
        live.push(recorded.event);
        row = recorded.row;
      }
      const event = eventForReportedState(update.state);
      if (!nextCommandState(row.state, event)) continue; // late or repeated report (or progress only)
      const error = update.error ?? (update.state === 'failed' ? { code: 'COMMAND_FAILED' as const, message: 'the device reported a failure' } : undefined);
      const change = await this.transition(trx, row, customerId, event, Date.now(), error ? `${error.code}: ${error.message}` : null, {
        ...(update.result !== undefined ? { result: JSON.stringify(update.result) } : {}),
        ...(error ? { error: JSON.stringify(error) } : {}),
      });
      if (!change) continue;
      changes.push(change);
      const { state } = change.command;
      if (isTerminal(state)) {
        await this.ctx.audit.appendIn(trx, {
          actorType: 'device',
          actorId: deviceId,
          action: 'command.result',
          targetType: 'device',
          targetId: deviceId,
          outcome: state === 'succeeded' ? 'ok' : 'failed',
          detail: { commandId: row.id, name: row.name, state, ...(row.session_id ? { sessionId: row.session_id } : {}), ...(error ? { error } : {}) },
        });
      }
    }
    return { changes, live };
  }

  /** Stores a running command's progress and new output lines (bounded), for the console; returns the event and the row as it left it. */
  private async recordProgress(
    trx: Transaction<Database>,
    row: CommandRow,
    progress: CommandProgress | undefined,
    output: readonly string[],
  ): Promise<{ event: LiveEvent; row: CommandRow }> {
    const now = Date.now();
    const limit = this.ctx.config.commandOutputLimit;
    const stored = Number(row.output_lines);
    const room = Math.max(0, limit - stored);
    const kept = output.slice(0, room);
    const dropped = output.length - kept.length;
    const lines: OutputLine[] = kept.map((text, i) => ({ seq: stored + i + 1, at: new Date(now).toISOString(), text }));
    if (dropped > 0 && stored + kept.length === limit) {
      lines.push({ seq: limit + 1, at: new Date(now).toISOString(), text: `… output beyond ${limit} lines is not kept` });
    }
    if (lines.length) await trx.insertInto('command_output').values(lines.map((l) => ({ command_id: row.id, seq: l.seq, at: now, text: l.text }))).onConflict((oc) => oc.doNothing()).execute();
    const changed = { ...(progress ? { progress: JSON.stringify(progress) } : {}), output_lines: stored + lines.length, updated_at: now };
    await trx.updateTable('commands').set(changed).where('id', '=', row.id).execute();
    return {
      event: { type: 'command.progress', deviceId: row.device_id, commandId: row.id, progress: progress ?? (row.progress ? (JSON.parse(row.progress) as CommandProgress) : null), lines },
      row: { ...row, ...changed },
    };
  }

  /** The output a command produced, in order, after line `after`. */
  async output(principal: Principal, commandId: string, after: number, limit: number): Promise<{ commandId: string; lines: OutputLine[]; lastSeq: number }> {
    await this.get(principal, commandId);
    const rows = await this.ctx.db.selectFrom('command_output').selectAll().where('command_id', '=', commandId).where('seq', '>', after).orderBy('seq').limit(limit).execute();
    const lines = rows.map((r) => ({ seq: Number(r.seq), at: isoOf(r.at), text: r.text }));
    return { commandId, lines, lastSeq: lines.at(-1)?.seq ?? after };
  }

  /**
   * A session ended: its queued commands are canceled now; delivered and running ones are
   * asked to stop (the agent stops them anyway once it sees the session gone). The
   * cancels are announced once the session's end committed.
   */
  async stopForSession(trx: Transaction<Database>, session: ServiceSessionRow, cause: SessionEndCause, _endedAt: number): Promise<AfterSessionEnd> {
    const rows = await trx.selectFrom('commands').selectAll().where('session_id', '=', session.id).where('state', 'in', ['queued', 'delivered', 'running']).execute();
    // the transitions' own time, not the session's: a command's history never goes back
    const now = Date.now();
    const changes: StateChange[] = [];
    for (const row of rows) {
      if (row.state === 'queued') {
        const error = { code: 'SESSION_ENDED', message: `the session ended: ${END_CAUSE_TEXT[cause]}` };
        const change = await this.transition(trx, row, session.customer_id, 'cancel', now, error.message, { error: JSON.stringify(error) });
        if (change) changes.push(change);
      } else {
        await trx.updateTable('commands').set({ cancel_requested: 1, updated_at: now }).where('id', '=', row.id).execute();
      }
    }
    return () => this.announce(changes);
  }

  /** Nothing is left once sessions changed: the stops' cancels were announced, and the session's announcement wakes the device. */
  async afterSessionsChanged(): Promise<void> {}

  /** Ends commands whose time ran out: waiting ones at their expiry, running ones a grace later. */
  async expireOverdue(now = Date.now()): Promise<number> {
    const grace = 2 * this.ctx.config.pollWindowMs;
    const changes = await this.ctx.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('commands')
        .innerJoin('devices', 'devices.id', 'commands.device_id')
        .selectAll('commands')
        .select('devices.customer_id')
        .where((eb) =>
          eb.or([
            eb.and([eb('commands.state', 'in', ['queued', 'delivered']), eb('commands.expires_at', '<=', now)]),
            eb.and([eb('commands.state', '=', 'running'), eb('commands.expires_at', '<=', now - grace)]),
          ]),
        )
        .limit(500)
        .execute();
      const out: StateChange[] = [];
      for (const row of rows) {
        const error = { code: 'COMMAND_EXPIRED', message: row.state === 'running' ? 'the device stopped reporting on this command' : 'the device did not take the command before it expired' };
        const change = await this.transition(trx, row, row.customer_id, 'expire', now, error.message, { error: JSON.stringify(error) });
        if (!change) continue;
        out.push(change);
        await this.ctx.audit.appendIn(trx, {
          actorType: 'system',
          action: 'command.result',
          targetType: 'device',
          targetId: row.device_id,
          outcome: 'failed',
          detail: { commandId: row.id, name: row.name, state: 'expired' },
        });
      }
      return out;
    });
    await this.announce(changes);
    return changes.length;
  }

  /**
   * Tells consoles about committed state changes, each with the command's view as that
   * change left it: the rows are in hand, their histories cost one query for the batch.
   */
  async announce(changes: readonly StateChange[]): Promise<void> {
    if (!changes.length) return;
    const ids = [...new Set(changes.map((c) => c.command.id))];
    const transitions = await this.ctx.db.selectFrom('command_transitions').selectAll().where('command_id', 'in', ids).orderBy('id').execute();
    const histories = new Map<string, typeof transitions>();
    for (const t of transitions) {
      const history = histories.get(t.command_id);
      if (history) history.push(t);
      else histories.set(t.command_id, [t]);
    }
    for (const c of changes) {
      // a later change of the same command may have committed since: this view stops at its own
      const history = (histories.get(c.command.id) ?? []).filter((t) => t.id <= c.transitionId);
      publishLive(this.ctx.bus, c.customerId, { type: 'command.state', deviceId: c.command.device_id, command: toView(c.command, history) });
    }
  }

  private async transition(
    trx: Transaction<Database>,
    row: CommandRow,
    customerId: string,
    event: CommandEvent,
    at: number,
    detail: string | null,
    extra: Partial<Pick<CommandRow, 'attempts' | 'result' | 'error'>> = {},
  ): Promise<StateChange | undefined> {
    const state = nextCommandState(row.state, event);
    if (!state) return undefined;
    const updated = await trx
      .updateTable('commands')
      .set({ state, updated_at: at, ...extra })
      .where('id', '=', row.id)
      .where('state', '=', row.state)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return undefined; // someone else moved it first
    const transition = await trx.insertInto('command_transitions').values({ command_id: row.id, state, at, detail }).returning('id').executeTakeFirstOrThrow();
    return { command: { ...row, state, updated_at: at, ...extra }, customerId, transitionId: transition.id };
  }
}

function toView(row: CommandRow, history: readonly TransitionRow[]): CommandView {
  return {
    id: row.id,
    deviceId: row.device_id,
    name: row.name as CommandName,
    params: JSON.parse(row.params) as Record<string, unknown>,
    state: row.state,
    createdBy: row.created_by,
    createdAt: isoOf(row.created_at),
    updatedAt: isoOf(row.updated_at),
    expiresAt: isoOf(row.expires_at),
    attempts: Number(row.attempts),
    sessionId: row.session_id,
    progress: row.progress ? (JSON.parse(row.progress) as CommandProgress) : null,
    result: row.result ? (JSON.parse(row.result) as unknown) : null,
    error: row.error ? (JSON.parse(row.error) as CommandView['error']) : null,
    history: history.map((h) => ({ state: h.state, at: isoOf(h.at), detail: h.detail })),
  };
}
