import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { TetherError } from '#contract/errors';
import type { CreateSessionRequest, SessionView } from '#contract/api/sessions';
import type { ConsentDecision, ConsentRequest, DeviceSession, SessionRevocation } from '#contract/protocol/poll';
import { END_CAUSE_TEXT, type ScopePolicies, type SessionEndCause } from '#contract/sessions';
import type { ServerContext } from '../context.ts';
import { type Principal, can } from '../access/principal.ts';
import type { AuditInput } from '../audit/audit-log.ts';
import type { FleetService } from '../devices/fleet-service.ts';
import { publishLive } from '../live/publish.ts';
import type { Database, ServiceSessionRow } from '../store/schema.ts';
import type { SessionGate } from './session-gate.ts';
import type { SessionEnds, SessionParticipants } from './session-participant.ts';
import { ConsentPolicies } from './policies.ts';
import { sessionScopes, toSessionViews } from './views.ts';

type Trx = Transaction<Database>;
type Actor = Pick<AuditInput, 'actorType' | 'actorId' | 'actorName' | 'ip'>;

/** A session whose state changed in a transaction, to announce once it committed. */
interface SessionChange {
  sessionId: string;
  deviceId: string;
  customerId: string;
}

/** How long ended sessions stay in the device's state sync (so the agent learns the cause). */
const ENDED_VISIBLE_MS = 10 * 60_000;
const OPEN_STATES = ['awaiting-consent', 'active'] as const;

const wholeSecond = (ms: number) => Math.floor(ms / 1000) * 1000;

const userActor = (p: Principal, ip: string | null): Actor => ({ actorType: 'user', actorId: p.id, actorName: p.username, ip });

/**
 * Consent-gated service sessions. An engineer requests one (scopes, reason, duration);
 * the device's policy allows it at once, denies it, or asks the operator at the device,
 * whose answer (or silence until the deadline) decides. An active session carries a
 * server-signed grant the agent verifies itself; it ends when the engineer ends it, the
 * customer revokes it, its time runs out, the device goes offline or an administrator
 * terminates it — and ending cancels what it was running. Every step is audited and kept
 * in the session's timeline.
 */
export class SessionService {
  readonly policies: ConsentPolicies;

  constructor(
    private readonly ctx: ServerContext,
    private readonly fleet: FleetService,
    private readonly gate: SessionGate,
    /** Whose work ends with a session: each is stopped in the session's closing transaction. */
    private readonly participants: SessionParticipants,
  ) {
    this.policies = new ConsentPolicies(ctx);
  }

  /** Sets a customer's consent policy (the simulator's `--consent`, admin tools). Audited. */
  setCustomerPolicy(customerId: string, policies: ScopePolicies, actor: Actor): Promise<void> {
    return this.policies.set({ type: 'customer', id: customerId }, policies, actor);
  }

  async request(principal: Principal, deviceId: string, input: CreateSessionRequest, ip: string | null): Promise<SessionView> {
    const device = await this.fleet.requireDevice(principal, deviceId);
    if (!can(principal, 'command')) throw new TetherError('FORBIDDEN', `your role (${principal.role}) may not start service sessions`);
    if (device.enrolled_at === null || device.status !== 'online') {
      throw new TetherError('CONFLICT', `the device is ${device.enrolled_at === null ? 'not enrolled' : device.status}; a session needs it online`);
    }
    const policies = await this.policies.effective(deviceId, device.customer_id);
    const asked = input.scopes.map((s) => policies[s]);
    const now = Date.now();
    const id = randomUUID();
    const ends: SessionEnds = [];
    const change = await this.ctx.db.transaction().execute(async (trx) => {
      const busy = await this.openSessionOf(trx, deviceId);
      if (busy) {
        const holder = await trx.selectFrom('users').select(['username', 'display_name']).where('id', '=', busy.engineer_id).executeTakeFirst();
        throw new TetherError('SESSION_BUSY', `${holder?.display_name ?? 'another engineer'} already has a session on this device; you can join it as an observer`, {
          sessionId: busy.id,
          engineer: holder?.username ?? null,
        });
      }
      await trx
        .insertInto('service_sessions')
        .values({
          id,
          device_id: deviceId,
          customer_id: device.customer_id,
          engineer_id: principal.id,
          scopes: JSON.stringify(input.scopes),
          reason: input.reason,
          duration_minutes: input.durationMinutes,
          state: 'requested',
          end_cause: null,
          created_at: now,
          consent_kind: null,
          consent_deadline: null,
          extension_minutes: null,
          decided_by: null,
          decided_at: null,
          activated_at: null,
          expires_at: null,
          ended_at: null,
        })
        .execute();
      await trx.insertInto('session_participants').values({ session_id: id, user_id: principal.id, role: 'controller', joined_at: now, left_at: null }).execute();
      await this.event(trx, id, now, 'requested', `${input.scopes.join(', ')} for ${input.durationMinutes} min — ${input.reason}`);
      await this.ctx.audit.appendIn(trx, {
        ...userActor(principal, ip),
        action: 'session.request',
        targetType: 'device',
        targetId: deviceId,
        outcome: 'ok',
        detail: { sessionId: id, scopes: input.scopes, reason: input.reason, durationMinutes: input.durationMinutes, policies: Object.fromEntries(input.scopes.map((s) => [s, policies[s]])) },
      });
      const row = await this.row(trx, id);
      if (asked.includes('deny')) {
        const denied = input.scopes.filter((s) => policies[s] === 'deny');
        await this.event(trx, id, now, 'policy-denied', `policy denies ${denied.join(', ')}`);
        await this.finish(trx, row, 'DENIED', { actorType: 'system', actorName: 'consent policy', ip: null }, now, ends, 'policy');
      } else if (asked.every((p) => p === 'allow')) {
        await this.activate(trx, row, 'policy', now);
      } else {
        const deadline = now + this.ctx.config.consentTimeoutSeconds * 1000;
        await trx.updateTable('service_sessions').set({ state: 'awaiting-consent', consent_kind: 'start', consent_deadline: deadline }).where('id', '=', id).execute();
        await this.event(trx, id, now, 'consent-requested', `asked the operator at the device; answer needed within ${this.ctx.config.consentTimeoutSeconds} s`);
      }
      return { sessionId: id, deviceId, customerId: device.customer_id };
    });
    return this.announceAndView(change, ends);
  }

  /** Asks for more time: granted at once where every scope is allowed, else the operator is asked. */
  async extend(principal: Principal, sessionId: string, minutes: number, ip: string | null): Promise<SessionView> {
    const session = await this.requireVisible(principal, sessionId);
    if (session.engineer_id !== principal.id) throw new TetherError('FORBIDDEN', 'only the engineer in control can extend the session');
    // read outside the transaction: on SQLite the transaction holds the only connection
    const policies = await this.policies.effective(session.device_id, session.customer_id);
    const change = await this.ctx.db.transaction().execute(async (trx) => {
      const row = await this.row(trx, sessionId);
      if (row.state !== 'active') throw new TetherError('SESSION_NOT_ACTIVE', 'only an active session can be extended');
      if (row.consent_kind === 'extend') throw new TetherError('CONFLICT', 'an extension is already waiting for consent');
      const now = Date.now();
      await this.ctx.audit.appendIn(trx, { ...userActor(principal, ip), action: 'session.extend.request', targetType: 'device', targetId: row.device_id, outcome: 'ok', detail: { sessionId, minutes } });
      const scopes = sessionScopes(row);
      if (scopes.some((s) => policies[s] === 'deny')) {
        await this.event(trx, sessionId, now, 'extension-denied', 'policy denies it');
        throw new TetherError('CONSENT_DENIED', 'the consent policy no longer allows this session to be extended');
      }
      if (scopes.every((s) => policies[s] === 'allow')) {
        await this.applyExtension(trx, row, minutes, 'policy', now);
      } else {
        await trx
          .updateTable('service_sessions')
          .set({ consent_kind: 'extend', extension_minutes: minutes, consent_deadline: now + this.ctx.config.consentTimeoutSeconds * 1000 })
          .where('id', '=', sessionId)
          .execute();
        await this.event(trx, sessionId, now, 'extension-requested', `${minutes} more minutes; asked the operator at the device`);
      }
      return { sessionId, deviceId: row.device_id, customerId: row.customer_id };
    });
    return this.announceAndView(change);
  }

  /** Ends a session: the controller ends it (USER_ENDED), an administrator terminates it. */
  async end(principal: Principal, sessionId: string, ip: string | null): Promise<SessionView> {
    const session = await this.requireVisible(principal, sessionId);
    const cause: SessionEndCause | undefined = session.engineer_id === principal.id ? 'USER_ENDED' : can(principal, 'admin') ? 'ADMIN_TERMINATED' : undefined;
    if (!cause) throw new TetherError('FORBIDDEN', 'only the engineer in control or an administrator can end this session');
    const ends: SessionEnds = [];
    const change = await this.ctx.db.transaction().execute(async (trx) => {
      const row = await this.row(trx, sessionId);
      if (!OPEN_STATES.includes(row.state as (typeof OPEN_STATES)[number])) throw new TetherError('SESSION_NOT_ACTIVE', `the session already ${row.state === 'denied' ? 'was denied' : 'ended'}`);
      await this.finish(trx, row, cause, userActor(principal, ip), Date.now(), ends);
      return { sessionId, deviceId: row.device_id, customerId: row.customer_id };
    });
    return this.announceAndView(change, ends);
  }

  /** A second engineer with rights on the device watches an active session, read-only. */
  async join(principal: Principal, sessionId: string, ip: string | null): Promise<SessionView> {
    const session = await this.requireVisible(principal, sessionId);
    if (!can(principal, 'command')) throw new TetherError('FORBIDDEN', `your role (${principal.role}) may not join service sessions`);
    if (session.engineer_id === principal.id) throw new TetherError('CONFLICT', 'you are already in control of this session');
    const change = await this.ctx.db.transaction().execute(async (trx) => {
      const row = await this.row(trx, sessionId);
      if (row.state !== 'active') throw new TetherError('SESSION_NOT_ACTIVE', 'only an active session can be joined');
      const now = Date.now();
      await trx
        .insertInto('session_participants')
        .values({ session_id: sessionId, user_id: principal.id, role: 'observer', joined_at: now, left_at: null })
        .onConflict((oc) => oc.columns(['session_id', 'user_id']).doUpdateSet({ left_at: null, joined_at: now }))
        .execute();
      await this.event(trx, sessionId, now, 'observer-joined', principal.displayName);
      await this.ctx.audit.appendIn(trx, { ...userActor(principal, ip), action: 'session.join', targetType: 'device', targetId: row.device_id, outcome: 'ok', detail: { sessionId } });
      return { sessionId, deviceId: row.device_id, customerId: row.customer_id };
    });
    return this.announceAndView(change);
  }

  async leave(principal: Principal, sessionId: string, ip: string | null): Promise<SessionView> {
    await this.requireVisible(principal, sessionId);
    const change = await this.ctx.db.transaction().execute(async (trx) => {
      const row = await this.row(trx, sessionId);
      const left = await trx
        .updateTable('session_participants')
        .set({ left_at: Date.now() })
        .where('session_id', '=', sessionId)
        .where('user_id', '=', principal.id)
        .where('role', '=', 'observer')
        .where('left_at', 'is', null)
        .executeTakeFirst();
      if (left.numUpdatedRows === 0n) throw new TetherError('CONFLICT', 'you are not observing this session');
      await this.event(trx, sessionId, Date.now(), 'observer-left', principal.displayName);
      await this.ctx.audit.appendIn(trx, { ...userActor(principal, ip), action: 'session.leave', targetType: 'device', targetId: row.device_id, outcome: 'ok', detail: { sessionId } });
      return { sessionId, deviceId: row.device_id, customerId: row.customer_id };
    });
    return this.announceAndView(change);
  }

  async get(principal: Principal, sessionId: string): Promise<SessionView> {
    const row = await this.requireVisible(principal, sessionId);
    const [view] = await toSessionViews(this.ctx.db, [row]);
    return view!;
  }

  async listForDevice(principal: Principal, deviceId: string, limit = 50): Promise<SessionView[]> {
    await this.fleet.requireDevice(principal, deviceId);
    const rows = await this.ctx.db.selectFrom('service_sessions').selectAll().where('device_id', '=', deviceId).orderBy('created_at', 'desc').limit(limit).execute();
    return toSessionViews(this.ctx.db, rows);
  }

  /** What the operator said at the device, inside the poll's transaction. */
  async applyFromDevice(
    trx: Trx,
    deviceId: string,
    decisions: readonly ConsentDecision[],
    revocations: readonly SessionRevocation[],
    ends: SessionEnds,
  ): Promise<SessionChange[]> {
    const changes: SessionChange[] = [];
    const now = Date.now();
    for (const decision of decisions) {
      const row = await trx.selectFrom('service_sessions').selectAll().where('id', '=', decision.sessionId).where('device_id', '=', deviceId).executeTakeFirst();
      if (!row || row.consent_kind !== decision.kind || row.consent_deadline === null || Number(row.consent_deadline) < now) continue;
      const operator = { actorType: 'device' as const, actorId: deviceId, actorName: decision.operator, ip: null };
      await this.ctx.audit.appendIn(trx, {
        ...operator,
        action: decision.kind === 'start' ? 'session.consent' : 'session.extend.consent',
        targetType: 'device',
        targetId: deviceId,
        outcome: decision.approve ? 'ok' : 'denied',
        detail: { sessionId: row.id, operator: decision.operator, decidedAt: new Date(decision.at).toISOString() },
      });
      if (decision.kind === 'start' && row.state === 'awaiting-consent') {
        if (decision.approve) {
          await this.event(trx, row.id, now, 'consent-approved', `by ${decision.operator} at the device`);
          await this.activate(trx, row, decision.operator, now);
        } else {
          await this.event(trx, row.id, now, 'consent-denied', `by ${decision.operator} at the device`);
          await this.finish(trx, row, 'DENIED', operator, now, ends, decision.operator);
        }
      } else if (decision.kind === 'extend' && row.state === 'active') {
        if (decision.approve) {
          await this.applyExtension(trx, row, Number(row.extension_minutes ?? 0), decision.operator, now);
        } else {
          await trx.updateTable('service_sessions').set({ consent_kind: null, consent_deadline: null, extension_minutes: null }).where('id', '=', row.id).execute();
          await this.event(trx, row.id, now, 'extension-denied', `by ${decision.operator} at the device`);
        }
      } else {
        continue;
      }
      changes.push({ sessionId: row.id, deviceId, customerId: row.customer_id });
    }
    for (const revocation of revocations) {
      const row = await trx.selectFrom('service_sessions').selectAll().where('id', '=', revocation.sessionId).where('device_id', '=', deviceId).executeTakeFirst();
      if (!row || !OPEN_STATES.includes(row.state as (typeof OPEN_STATES)[number])) continue;
      await this.finish(trx, row, 'CUSTOMER_REVOKED', { actorType: 'device', actorId: deviceId, actorName: revocation.operator, ip: null }, now, ends, revocation.operator);
      changes.push({ sessionId: row.id, deviceId, customerId: row.customer_id });
    }
    return changes;
  }

  /** The session state a device's held poll carries: consent questions, active sessions, recent ends. */
  async deviceState(deviceId: string): Promise<{ consents: ConsentRequest[]; sessions: DeviceSession[]; endedSessions: { sessionId: string; cause: SessionEndCause }[] }> {
    const now = Date.now();
    const rows = await this.ctx.db
      .selectFrom('service_sessions')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where((eb) => eb.or([eb('state', 'in', [...OPEN_STATES]), eb('ended_at', '>', now - ENDED_VISIBLE_MS)]))
      .execute();
    if (!rows.length) return { consents: [], sessions: [], endedSessions: [] };
    const views = await toSessionViews(this.ctx.db, rows);
    const consents: ConsentRequest[] = [];
    const sessions: DeviceSession[] = [];
    const endedSessions: { sessionId: string; cause: SessionEndCause }[] = [];
    for (const [i, row] of rows.entries()) {
      const view = views[i]!;
      const engineer = { username: view.engineer.username, displayName: view.engineer.displayName };
      if (row.consent_kind && row.consent_deadline !== null && Number(row.consent_deadline) > now) {
        consents.push({
          sessionId: row.id,
          kind: row.consent_kind,
          engineer,
          scopes: view.scopes,
          reason: row.reason,
          durationMinutes: row.consent_kind === 'extend' ? Number(row.extension_minutes ?? 0) : Number(row.duration_minutes),
          expiresInMs: Number(row.consent_deadline) - now,
        });
      }
      if (row.state === 'active' && row.expires_at !== null && Number(row.expires_at) > now) {
        sessions.push({
          sessionId: row.id,
          grant: await this.gate.grantFor(row),
          scopes: view.scopes,
          expiresAt: Number(row.expires_at),
          controller: engineer,
          observers: view.observers.map((o) => ({ username: o.username, displayName: o.displayName })),
          reason: row.reason,
        });
      }
      if ((row.state === 'ended' || row.state === 'denied') && row.end_cause) endedSessions.push({ sessionId: row.id, cause: row.end_cause });
    }
    return { consents, sessions, endedSessions };
  }

  /** Consent deadlines, expiries and devices that went away. Idempotent; runs on every node. */
  async sweep(now = Date.now()): Promise<number> {
    const ends: SessionEnds = [];
    const changes = await this.ctx.db.transaction().execute(async (trx) => {
      const out: SessionChange[] = [];
      const system: Actor = { actorType: 'system', actorName: 'tether-server', ip: null };
      const due = await trx
        .selectFrom('service_sessions as s')
        .innerJoin('devices as d', 'd.id', 's.device_id')
        .selectAll('s')
        .select('d.status as device_status')
        .where('s.state', 'in', [...OPEN_STATES])
        .where((eb) =>
          eb.or([
            eb('s.consent_deadline', '<=', now),
            eb.and([eb('s.state', '=', 'active'), eb('s.expires_at', '<=', now)]),
            eb('d.status', '!=', 'online'),
          ]),
        )
        .limit(500)
        .execute();
      for (const { device_status, ...row } of due) {
        if (device_status !== 'online') {
          await this.finish(trx, row, 'DEVICE_OFFLINE', system, now, ends);
        } else if (row.state === 'awaiting-consent') {
          await this.event(trx, row.id, now, 'consent-timeout', 'no answer at the device');
          await this.finish(trx, row, 'CONSENT_TIMEOUT', system, now, ends);
        } else if (Number(row.expires_at) <= now) {
          await this.finish(trx, row, 'EXPIRED', system, now, ends);
        } else {
          await trx.updateTable('service_sessions').set({ consent_kind: null, consent_deadline: null, extension_minutes: null }).where('id', '=', row.id).execute();
          await this.event(trx, row.id, now, 'extension-timeout', 'no answer at the device; the session keeps its time');
        }
        out.push({ sessionId: row.id, deviceId: row.device_id, customerId: row.customer_id });
      }
      return out;
    });
    await this.announce(changes, ends);
    return changes.length;
  }

  private async activate(trx: Trx, row: ServiceSessionRow, decidedBy: string, now: number): Promise<void> {
    // whole seconds: the grant's `exp` is in seconds, so server and agent end it together
    const expiresAt = wholeSecond(now + Number(row.duration_minutes) * 60_000);
    await trx
      .updateTable('service_sessions')
      .set({ state: 'active', consent_kind: null, consent_deadline: null, decided_by: decidedBy, decided_at: now, activated_at: now, expires_at: expiresAt })
      .where('id', '=', row.id)
      .execute();
    await this.event(trx, row.id, now, 'activated', `${decidedBy === 'policy' ? 'allowed by policy' : `approved by ${decidedBy}`}; until ${new Date(expiresAt).toISOString()}`);
    await this.ctx.audit.appendIn(trx, {
      actorType: decidedBy === 'policy' ? 'system' : 'device',
      actorId: decidedBy === 'policy' ? null : row.device_id,
      actorName: decidedBy,
      action: 'session.activate',
      targetType: 'device',
      targetId: row.device_id,
      outcome: 'ok',
      ip: null,
      detail: { sessionId: row.id, decidedBy, expiresAt: new Date(expiresAt).toISOString() },
    });
  }

  private async applyExtension(trx: Trx, row: ServiceSessionRow, minutes: number, decidedBy: string, now: number): Promise<void> {
    const expiresAt = wholeSecond(Math.max(Number(row.expires_at ?? now), now) + minutes * 60_000);
    await trx
      .updateTable('service_sessions')
      .set({ expires_at: expiresAt, duration_minutes: Number(row.duration_minutes) + minutes, consent_kind: null, consent_deadline: null, extension_minutes: null })
      .where('id', '=', row.id)
      .execute();
    await this.event(trx, row.id, now, 'extended', `${minutes} more minutes (${decidedBy === 'policy' ? 'allowed by policy' : `approved by ${decidedBy}`}); until ${new Date(expiresAt).toISOString()}`);
    await this.ctx.audit.appendIn(trx, {
      actorType: decidedBy === 'policy' ? 'system' : 'device',
      actorName: decidedBy,
      action: 'session.extend',
      targetType: 'device',
      targetId: row.device_id,
      outcome: 'ok',
      ip: null,
      detail: { sessionId: row.id, minutes, expiresAt: new Date(expiresAt).toISOString() },
    });
  }

  /**
   * Ends or denies a session with its cause, in the caller's transaction: never active →
   * `denied`, else `ended`; each participant stops its work in it (queued commands are
   * canceled and running ones told to stop — the agent also stops them on its own when it
   * sees the session gone; transfers end, tunnels close) and leaves its after-steps in `ends`.
   */
  private async finish(trx: Trx, row: ServiceSessionRow, cause: SessionEndCause, actor: Actor, now: number, ends: SessionEnds, decidedBy?: string): Promise<void> {
    const neverActive = row.state !== 'active';
    const updated = await trx
      .updateTable('service_sessions')
      .set({
        state: neverActive ? 'denied' : 'ended',
        end_cause: cause,
        ended_at: now,
        consent_kind: null,
        consent_deadline: null,
        extension_minutes: null,
        ...(decidedBy ? { decided_by: decidedBy, decided_at: now } : {}),
      })
      .where('id', '=', row.id)
      .where('state', 'in', ['requested', ...OPEN_STATES])
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return;
    await this.event(trx, row.id, now, neverActive ? 'denied' : 'ended', `${cause}: ${END_CAUSE_TEXT[cause]}${actor.actorName && actor.actorType !== 'system' ? ` (${actor.actorName})` : ''}`);
    await this.ctx.audit.appendIn(trx, {
      ...actor,
      action: 'session.end',
      targetType: 'device',
      targetId: row.device_id,
      outcome: cause === 'DENIED' || cause === 'CONSENT_TIMEOUT' ? 'denied' : 'ok',
      detail: { sessionId: row.id, cause },
    });
    const { commands, transfers, tunnels } = this.participants;
    for (const participant of [commands, transfers, tunnels]) {
      const after = await participant.stopForSession(trx, row, cause, now);
      if (after) ends.push(after);
    }
  }

  private async openSessionOf(trx: Trx, deviceId: string): Promise<ServiceSessionRow | undefined> {
    return trx.selectFrom('service_sessions').selectAll().where('device_id', '=', deviceId).where('state', 'in', [...OPEN_STATES]).executeTakeFirst();
  }

  private async row(trx: Trx, id: string): Promise<ServiceSessionRow> {
    return trx.selectFrom('service_sessions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  }

  private async requireVisible(principal: Principal, sessionId: string): Promise<ServiceSessionRow> {
    const row = await this.ctx.db.selectFrom('service_sessions').selectAll().where('id', '=', sessionId).executeTakeFirst();
    if (!row) throw new TetherError('NOT_FOUND', `no session ${sessionId}`);
    await this.fleet.requireDevice(principal, row.device_id).catch(() => {
      throw new TetherError('NOT_FOUND', `no session ${sessionId}`);
    });
    return row;
  }

  private async event(trx: Trx, sessionId: string, at: number, type: string, detail: string | null): Promise<void> {
    await trx.insertInto('session_events').values({ session_id: sessionId, at, type, detail }).execute();
  }

  private async announceAndView(change: SessionChange, ends: SessionEnds = []): Promise<SessionView> {
    const [view] = await this.announce([change], ends);
    return view!;
  }

  /**
   * After the commit: takes the steps the ends left (what stopped with the sessions is
   * announced first), tells consoles the new state, wakes the device's held poll so its
   * agent hears at once, and lets the participants finish.
   */
  async announce(changes: readonly SessionChange[], ends: SessionEnds): Promise<SessionView[]> {
    for (const after of ends) await after();
    if (!changes.length) return [];
    const rows = await this.ctx.db.selectFrom('service_sessions').selectAll().where('id', 'in', changes.map((c) => c.sessionId)).execute();
    const views = await toSessionViews(this.ctx.db, rows);
    for (const view of views) {
      const row = rows.find((r) => r.id === view.id)!;
      publishLive(this.ctx.bus, row.customer_id, { type: 'session.state', deviceId: row.device_id, session: view });
      this.ctx.bus.publish('device.wake', { deviceId: row.device_id });
    }
    const sessionIds = changes.map((c) => c.sessionId);
    const { commands, transfers, tunnels } = this.participants;
    // tunnels first: their legs are cut at once, while purging transfers may take a while
    for (const participant of [tunnels, transfers, commands]) await participant.afterSessionsChanged(sessionIds);
    return changes.map((c) => views.find((v) => v.id === c.sessionId)!);
  }
}
