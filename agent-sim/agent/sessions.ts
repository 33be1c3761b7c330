import { z } from 'zod';
import { TetherError } from '#contract/errors';
import { readFileIfExists, writeFileAtomic } from '#node-lib/files';
import {
  ConsentDecisionSchema,
  SessionRevocationSchema,
  type CommandDelivery,
  type ConsentDecision,
  type ConsentRequest,
  type DeviceSession,
  type PollResponse,
  type SessionRevocation,
} from '#contract/protocol/poll';
import { END_CAUSE_TEXT, type GrantClaims, type SessionEndCause, type SessionScope } from '#contract/sessions';
import type { PrivilegedCommandGuard } from './executor.ts';
import { type GrantCheck, type GrantVerifier, grantRefusal } from './grants.ts';
import type { LocalAuditFile } from './local-audit.ts';

/** The session part of a held-poll answer: the server's full, current view. */
export type SessionState = Required<Pick<PollResponse, 'consents' | 'sessions' | 'endedSessions'>>;

/** Decisions and revocations on their way to the server. */
export interface SessionOutgoing {
  consentDecisions: ConsentDecision[];
  sessionRevocations: SessionRevocation[];
}

export interface ServiceSessionsOptions {
  verifier: GrantVerifier;
  audit: LocalAuditFile;
  /** Where undelivered decisions and local revocations survive an agent restart. */
  statePath: string;
  /** Aborts the running commands of an ended session with SESSION_ENDED; returns how many. */
  endCommands: (sessionId: string, message: string) => number;
  /** Pending consent requests or active sessions changed (a UI refreshes). */
  onChange: () => void;
  /** Decisions or revocations are waiting: send them now. */
  onOutgoing: () => void;
  now?: () => number;
}

interface PendingConsent {
  request: ConsentRequest;
  /** Epoch ms (local clock) after which no answer counts as denied. */
  deadline: number;
  timer: NodeJS.Timeout | undefined;
}

interface ActiveSession {
  session: DeviceSession;
  claims: GrantClaims;
}

interface EndedSession {
  cause: SessionEndCause | undefined;
  /** Operator who revoked it here: it stays refused whatever the server still lists. */
  revokedBy?: string;
}

const PersistedStateSchema = z.object({
  consentDecisions: z.array(ConsentDecisionSchema).default([]),
  sessionRevocations: z.array(SessionRevocationSchema).default([]),
  revoked: z.array(z.object({ sessionId: z.string(), operator: z.string() })).default([]),
});

const ENDED_KEPT = 1000;
const OUTGOING_PER_REQUEST = 50;
/** setTimeout's longest delay; a later expiry is re-armed when it fires. */
const MAX_TIMER_MS = 2_147_483_647;

const consentKey = (sessionId: string, kind: string) => `${sessionId}:${kind}`;

/** The SESSION_ENDED message for a cause, naming it in words. */
export function sessionEndedMessage(cause: SessionEndCause | undefined, detail?: string): string {
  if (!cause) return 'the session ended: the server no longer lists it';
  return `the session ended (${cause}): ${detail ?? END_CAUSE_TEXT[cause]}`;
}

/**
 * The device side of consent-gated service sessions: the consent requests waiting for the
 * operator at the device, the sessions active now (each admitted only with a grant the
 * agent verified itself), and the ends of sessions — by the server, by expiry of the
 * grant, or by the operator here — which abort the session's running commands. Every
 * step is written to the local audit. Decisions and revocations are kept (on disk too)
 * until a request carrying them succeeds.
 */
export class ServiceSessions implements PrivilegedCommandGuard {
  private readonly consents = new Map<string, PendingConsent>();
  private readonly decided = new Set<string>();
  private readonly active = new Map<string, ActiveSession>();
  private readonly ended = new Map<string, EndedSession>();
  private readonly expiries = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly refusedGrants = new Set<string>();
  private readonly outbox: SessionOutgoing = { consentDecisions: [], sessionRevocations: [] };
  private readonly inFlight = new Set<ConsentDecision | SessionRevocation>();
  private readonly now: () => number;
  private applying: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: ServiceSessionsOptions) {
    this.now = options.now ?? Date.now;
    this.load();
  }

  /** Consent requests waiting for the operator, with the time left to answer counted down. */
  pendingConsents(): ConsentRequest[] {
    const now = this.now();
    return [...this.consents.values()]
      .filter((c) => c.deadline > now)
      .map((c) => ({ ...c.request, expiresInMs: c.deadline - now }));
  }

  /** Sessions active now: who controls, who observes, with the scopes and expiry their grant signs. */
  activeSessions(): DeviceSession[] {
    return [...this.active.values()].map(({ session, claims }) => ({ ...session, scopes: claims.scopes, expiresAt: claims.exp * 1000 }));
  }

  /** The operator at the device answers a consent request; the answer goes up at once. */
  decideConsent(sessionId: string, approve: boolean, operator: string): ConsentDecision {
    const who = operatorName(operator);
    const pending = [...this.consents.values()].find((c) => c.request.sessionId === sessionId);
    if (!pending) throw new TetherError('NOT_FOUND', `no consent request for session ${sessionId} is waiting on this device`);
    if (pending.deadline <= this.now()) throw new TetherError('SESSION_NOT_ACTIVE', 'the consent request timed out: nobody answered in time, so it counts as denied');
    const { request } = pending;
    const decision: ConsentDecision = { sessionId, kind: request.kind, approve, operator: who, at: this.now() };
    const key = consentKey(sessionId, request.kind);
    clearTimeout(pending.timer);
    this.consents.delete(key);
    this.decided.add(key);
    this.options.audit.append('consent.decided', approve ? 'ok' : 'denied', {
      sessionId,
      kind: request.kind,
      approve,
      operator: who,
      engineer: request.engineer.username,
      scopes: request.scopes,
    });
    this.outbox.consentDecisions.push(decision);
    this.persist();
    this.options.onChange();
    this.options.onOutgoing();
    return decision;
  }

  /** The operator ends a session at the device: its commands stop now, and the server is told at once. */
  revokeSession(sessionId: string, operator: string): SessionRevocation {
    const who = operatorName(operator);
    const known = this.active.get(sessionId);
    if (!known) throw new TetherError('NOT_FOUND', `no session ${sessionId} is active on this device`);
    const revocation: SessionRevocation = { sessionId, operator: who, at: this.now() };
    const message = sessionEndedMessage('CUSTOMER_REVOKED', `revoked at the device by ${who}`);
    this.forget(sessionId, { cause: 'CUSTOMER_REVOKED', revokedBy: who });
    const aborted = this.options.endCommands(sessionId, message);
    this.options.audit.append('session.revoked', 'ok', { sessionId, operator: who, controller: known.session.controller.username, abortedCommands: aborted });
    this.outbox.sessionRevocations.push(revocation);
    this.persist();
    this.options.onChange();
    this.options.onOutgoing();
    return revocation;
  }

  /**
   * Applies the session state of a held-poll answer (idempotent; calls are serialized).
   * New consent requests are audited once; sessions are admitted only with a valid grant;
   * sessions the server no longer lists are ended with the cause it gives.
   */
  apply(state: SessionState): Promise<void> {
    const applied = this.applying.then(() => this.applyNow(state));
    this.applying = applied.catch(() => undefined); // a failed one does not stop the next
    return applied;
  }

  /** The grant check of a privileged command: valid grant, and the session not ended or revoked here. */
  async check(delivery: CommandDelivery, scope: SessionScope): Promise<GrantCheck> {
    const check = await this.options.verifier.verify(delivery.grant, { sessionId: delivery.sessionId, scope });
    if (!check.ok) return check;
    const recheck = this.recheck(check.claims);
    if (recheck.ok) this.watchExpiry(check.claims.sid, check.claims.exp * 1000);
    return recheck;
  }

  /** A verified grant is still good now: not expired, its session not ended nor revoked here. */
  recheck(claims: GrantClaims): GrantCheck {
    const ended = this.ended.get(claims.sid);
    if (ended?.revokedBy) return grantRefusal('revoked', `the session was revoked at the device by ${ended.revokedBy}`);
    if (ended && ended.cause !== 'EXPIRED') return grantRefusal('ended', sessionEndedMessage(ended.cause));
    if (claims.exp * 1000 <= this.now()) return grantRefusal('expired', 'the grant has expired');
    return { ok: true, claims };
  }

  /** Whether decisions or revocations wait to go up. */
  get hasOutgoing(): boolean {
    return this.outbox.consentDecisions.length + this.outbox.sessionRevocations.length > this.inFlight.size;
  }

  /** Decisions and revocations for the next request; give them back to `settle` when it ends. */
  takeOutgoing(): SessionOutgoing {
    const pick = <T extends ConsentDecision | SessionRevocation>(items: T[]): T[] =>
      items.filter((item) => !this.inFlight.has(item)).slice(0, OUTGOING_PER_REQUEST);
    const taken = { consentDecisions: pick(this.outbox.consentDecisions), sessionRevocations: pick(this.outbox.sessionRevocations) };
    for (const item of [...taken.consentDecisions, ...taken.sessionRevocations]) this.inFlight.add(item);
    return taken;
  }

  /** A request ended: what it carried is done with when it was delivered, else sent again. */
  settle(taken: SessionOutgoing, delivered: boolean): void {
    const items = new Set<ConsentDecision | SessionRevocation>([...taken.consentDecisions, ...taken.sessionRevocations]);
    for (const item of items) this.inFlight.delete(item);
    if (!delivered || items.size === 0) return;
    this.outbox.consentDecisions = this.outbox.consentDecisions.filter((d) => !items.has(d));
    this.outbox.sessionRevocations = this.outbox.sessionRevocations.filter((r) => !items.has(r));
    this.persist();
  }

  /** Stops the timers (agent stopping). */
  close(): void {
    this.closed = true;
    for (const consent of this.consents.values()) clearTimeout(consent.timer);
    for (const expiry of this.expiries.values()) clearTimeout(expiry.timer);
    this.expiries.clear();
  }

  private async applyNow(state: SessionState): Promise<void> {
    if (this.closed) return;
    const causes = new Map(state.endedSessions.map((e) => [e.sessionId, e.cause]));
    let changed = this.applyConsents(state.consents, causes);
    for (const session of state.sessions) {
      if (await this.admit(session)) changed = true;
    }
    if (this.closed) return; // the agent stopped while grants were verified
    const listed = new Set(state.sessions.map((s) => s.sessionId));
    for (const [sessionId, known] of [...this.active]) {
      if (listed.has(sessionId)) continue;
      const cause = causes.get(sessionId);
      const message = sessionEndedMessage(cause);
      this.forget(sessionId, { cause });
      const aborted = this.options.endCommands(sessionId, message);
      this.options.audit.append('session.ended', 'ok', { sessionId, cause: cause ?? null, reason: message, controller: known.session.controller.username, abortedCommands: aborted });
      changed = true;
    }
    for (const [sessionId, cause] of causes) {
      if (!this.ended.has(sessionId) && !this.active.has(sessionId)) {
        this.remember(sessionId, { cause });
        this.options.endCommands(sessionId, sessionEndedMessage(cause));
      }
    }
    if (changed) this.options.onChange();
  }

  private applyConsents(requests: readonly ConsentRequest[], causes: ReadonlyMap<string, SessionEndCause>): boolean {
    let changed = false;
    const now = this.now();
    const listed = new Set<string>();
    for (const request of requests) {
      const key = consentKey(request.sessionId, request.kind);
      listed.add(key);
      if (this.decided.has(key) || this.ended.get(request.sessionId)?.revokedBy) continue;
      const pending = this.consents.get(key);
      const deadline = now + request.expiresInMs;
      if (pending) {
        pending.request = request;
        pending.deadline = deadline;
        this.armConsentTimer(pending);
        continue;
      }
      this.options.audit.append('consent.requested', 'ok', {
        sessionId: request.sessionId,
        kind: request.kind,
        engineer: request.engineer.username,
        engineerName: request.engineer.displayName,
        scopes: request.scopes,
        reason: request.reason,
        durationMinutes: request.durationMinutes,
        expiresInMs: request.expiresInMs,
      });
      const consent: PendingConsent = { request, deadline, timer: undefined };
      this.armConsentTimer(consent);
      this.consents.set(key, consent);
      changed = true;
    }
    for (const [key, pending] of [...this.consents]) {
      if (listed.has(key)) continue;
      clearTimeout(pending.timer);
      this.consents.delete(key);
      const cause = causes.get(pending.request.sessionId);
      this.options.audit.append('consent.closed', 'ok', { sessionId: pending.request.sessionId, kind: pending.request.kind, cause: cause ?? null });
      changed = true;
    }
    for (const key of [...this.decided]) if (!listed.has(key)) this.decided.delete(key);
    return changed;
  }

  /** Admits or refreshes one listed session; true when what the operator sees changed. */
  private async admit(session: DeviceSession): Promise<boolean> {
    const { sessionId } = session;
    const ended = this.ended.get(sessionId);
    if (ended && ended.cause !== 'EXPIRED') return false; // revoked here or ended: stays refused
    const known = this.active.get(sessionId);
    if (known && known.session.grant === session.grant) {
      const changed = !samePeople(known.session, session);
      known.session = session;
      return changed;
    }
    const check = await this.options.verifier.verify(session.grant, { sessionId });
    if (this.closed) return false;
    if (!check.ok) {
      // a session that ran out here may be listed a little longer with its old grant: not news
      const stale = ended?.cause === 'EXPIRED' && check.reason === 'expired';
      if (!stale && !this.refusedGrants.has(session.grant)) {
        if (this.refusedGrants.size > ENDED_KEPT) this.refusedGrants.clear();
        this.refusedGrants.add(session.grant);
        this.options.audit.append('session.ignored', 'denied', { sessionId, check: check.reason, reason: check.message, controller: session.controller.username });
      }
      return false;
    }
    const endedMeanwhile = this.ended.get(sessionId);
    if (endedMeanwhile && (endedMeanwhile.cause !== 'EXPIRED' || check.claims.exp * 1000 <= this.now())) return false;
    const current = this.active.get(sessionId);
    this.active.set(sessionId, { session, claims: check.claims });
    this.ended.delete(sessionId);
    this.watchExpiry(sessionId, check.claims.exp * 1000);
    const detail = { sessionId, controller: session.controller.username, observers: session.observers.map((o) => o.username), scopes: check.claims.scopes, expiresAt: check.claims.exp * 1000, reason: session.reason };
    if (!current) this.options.audit.append(endedMeanwhile ? 'session.extended' : 'session.started', 'ok', detail);
    else if (check.claims.exp > current.claims.exp) this.options.audit.append('session.extended', 'ok', detail);
    return true;
  }

  private expire(sessionId: string): void {
    const known = this.active.get(sessionId);
    this.forget(sessionId, { cause: 'EXPIRED' });
    const aborted = this.options.endCommands(sessionId, sessionEndedMessage('EXPIRED'));
    this.options.audit.append('session.expired', 'ok', { sessionId, controller: known?.session.controller.username ?? null, abortedCommands: aborted });
    if (known) this.options.onChange();
  }

  /** Ends a session locally at its grant's expiry (the latest one seen). */
  private watchExpiry(sessionId: string, at: number): void {
    const current = this.expiries.get(sessionId);
    if (this.closed || (current && current.at >= at)) return;
    if (current) clearTimeout(current.timer);
    const timer = setTimeout(() => {
      this.expiries.delete(sessionId);
      if (this.now() < at) this.watchExpiry(sessionId, at);
      else this.expire(sessionId);
    }, Math.min(MAX_TIMER_MS, Math.max(0, at - this.now())));
    timer.unref();
    this.expiries.set(sessionId, { at, timer });
  }

  private armConsentTimer(consent: PendingConsent): void {
    clearTimeout(consent.timer);
    if (this.closed) return;
    // the request leaves the operator's list when its time runs out
    consent.timer = setTimeout(() => this.options.onChange(), Math.min(MAX_TIMER_MS, Math.max(0, consent.deadline - this.now())));
    consent.timer.unref();
  }

  private forget(sessionId: string, ended: EndedSession): void {
    this.active.delete(sessionId);
    const expiry = this.expiries.get(sessionId);
    if (expiry) clearTimeout(expiry.timer);
    this.expiries.delete(sessionId);
    this.remember(sessionId, ended);
  }

  private remember(sessionId: string, ended: EndedSession): void {
    this.ended.delete(sessionId);
    this.ended.set(sessionId, ended);
    if (this.ended.size > ENDED_KEPT) {
      const oldest = this.ended.keys().next().value;
      if (oldest !== undefined) this.ended.delete(oldest);
    }
  }

  private load(): void {
    const text = readFileIfExists(this.options.statePath);
    if (!text) return;
    let parsed;
    try {
      parsed = PersistedStateSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      this.options.audit.append('session.state-unreadable', 'failed', { path: this.options.statePath });
      return;
    }
    this.outbox.consentDecisions.push(...parsed.data.consentDecisions);
    this.outbox.sessionRevocations.push(...parsed.data.sessionRevocations);
    for (const { sessionId, operator } of parsed.data.revoked) this.remember(sessionId, { cause: 'CUSTOMER_REVOKED', revokedBy: operator });
  }

  private persist(): void {
    const revoked = [...this.ended].flatMap(([sessionId, e]) => (e.revokedBy ? [{ sessionId, operator: e.revokedBy }] : []));
    writeFileAtomic(this.options.statePath, JSON.stringify({ ...this.outbox, revoked }), 0o600);
  }
}

function operatorName(operator: string): string {
  const name = operator.trim();
  if (!name || name.length > 128) throw new TetherError('VALIDATION_FAILED', 'name the operator at the device (1 to 128 characters)');
  return name;
}

function samePeople(a: DeviceSession, b: DeviceSession): boolean {
  const names = (s: DeviceSession) => [s.controller.username, ...s.observers.map((o) => o.username)].join('\n');
  return names(a) === names(b) && a.controller.displayName === b.controller.displayName;
}
