import { describe, expect, it } from 'vitest';
import type { CommandHandler } from '../../../agent-sim/agent/executor.ts';
import { verifyLocalAudit } from '../../../agent-sim/agent/local-audit.ts';
import type { ConsentRequest } from '#contract/protocol/poll';
import type { SessionEndCause } from '#contract/sessions';
import { waitFor } from '../../helpers/wait.ts';
import {
  SESSION_ID,
  type SessionRig,
  deviceSession,
  diagnostic,
  rigsForEachTest,
  signGrant,
} from './session-harness.ts';

const fixture = rigsForEachTest();
const rig = fixture.rig;

const consent = (overrides: Partial<ConsentRequest> = {}): ConsentRequest => ({
  sessionId: SESSION_ID,
  kind: 'start',
  engineer: { username: 'jdoe', displayName: 'Jane Doe' },
  scopes: ['diagnose'],
  reason: 'TICKET-4711 pressure alarms',
  durationMinutes: 30,
  expiresInMs: 120_000,
  ...overrides,
});

/** A diagnostic that runs until aborted, as a long transducer check would. */
const untilAborted: CommandHandler = (_params, { signal }) =>
  new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });

/** A rig with an active session and one of its commands running. */
async function withRunningCommand(r: SessionRig, grant: string): Promise<void> {
  r.executor.register('self-test', untilAborted);
  await r.sessions.apply({ consents: [], sessions: [deviceSession(grant)], endedSessions: [] });
  await r.executor.accept([diagnostic('cmd-running', grant)]);
  expect(r.statesOf('cmd-running')).toEqual(['running']);
}

describe('consent requests at the device', () => {
  it('audits a consent request once however often the server lists it, and counts its time down', async () => {
    const r = rig();
    await r.sessions.apply({ consents: [consent()], sessions: [], endedSessions: [] });
    await new Promise((resolve) => setTimeout(resolve, 30));
    await r.sessions.apply({ consents: [consent({ expiresInMs: 119_000 })], sessions: [], endedSessions: [] });

    const requested = r.audit().filter((e) => e.action === 'consent.requested');
    expect(requested).toHaveLength(1);
    expect(requested[0]?.detail).toMatchObject({ sessionId: SESSION_ID, engineer: 'jdoe', scopes: ['diagnose'], reason: 'TICKET-4711 pressure alarms', durationMinutes: 30 });
    expect(r.changes).toBe(1);
    const [pending] = r.sessions.pendingConsents();
    expect(pending?.engineer.displayName).toBe('Jane Doe');
    expect(pending?.expiresInMs).toBeLessThanOrEqual(119_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(r.sessions.pendingConsents()[0]?.expiresInMs).toBeLessThan(pending?.expiresInMs ?? 0);
  });

  it('queues a decision until a request carrying it succeeds, and does not ask again while the server catches up', async () => {
    const r = rig();
    await r.sessions.apply({ consents: [consent()], sessions: [], endedSessions: [] });

    const decision = r.sessions.decideConsent(SESSION_ID, true, 'Pat Biomed');
    expect(decision).toMatchObject({ sessionId: SESSION_ID, kind: 'start', approve: true, operator: 'Pat Biomed' });
    expect(r.outgoingSignals).toBe(1);
    expect(r.sessions.pendingConsents()).toEqual([]);
    expect(r.audit().find((e) => e.action === 'consent.decided')).toMatchObject({ outcome: 'ok', detail: { approve: true, operator: 'Pat Biomed', engineer: 'jdoe' } });

    const failed = r.sessions.takeOutgoing();
    expect(failed.consentDecisions).toEqual([decision]);
    expect(r.sessions.takeOutgoing().consentDecisions).toEqual([]); // in flight: not sent twice at once
    r.sessions.settle(failed, false);
    const retried = r.sessions.takeOutgoing();
    expect(retried.consentDecisions).toEqual([decision]);
    r.sessions.settle(retried, true);
    expect(r.sessions.hasOutgoing).toBe(false);

    // the next held poll was built before the server had the answer: still lists the request
    await r.sessions.apply({ consents: [consent()], sessions: [], endedSessions: [] });
    expect(r.sessions.pendingConsents()).toEqual([]);
    expect(r.audit().filter((e) => e.action === 'consent.requested')).toHaveLength(1);
  });

  it('keeps an undelivered decision across an agent restart', async () => {
    const first = rig();
    await first.sessions.apply({ consents: [consent()], sessions: [], endedSessions: [] });
    first.sessions.decideConsent(SESSION_ID, false, 'Pat Biomed');
    const second = await first.restart();
    fixture.track(second);
    expect(second.sessions.takeOutgoing().consentDecisions).toMatchObject([{ sessionId: SESSION_ID, approve: false, operator: 'Pat Biomed' }]);
  });

  it('refuses a decision on a request that is not waiting, or that timed out', async () => {
    const r = rig();
    expect(() => r.sessions.decideConsent(SESSION_ID, true, 'Pat')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    await r.sessions.apply({ consents: [consent({ expiresInMs: 0 })], sessions: [], endedSessions: [] });
    expect(r.sessions.pendingConsents()).toEqual([]);
    expect(() => r.sessions.decideConsent(SESSION_ID, true, 'Pat')).toThrow(expect.objectContaining({ code: 'SESSION_NOT_ACTIVE' }));
    await r.sessions.apply({ consents: [consent()], sessions: [], endedSessions: [] });
    expect(() => r.sessions.decideConsent(SESSION_ID, true, '  ')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('audits a request that the server withdrew, with its cause', async () => {
    const r = rig();
    await r.sessions.apply({ consents: [consent()], sessions: [], endedSessions: [] });
    await r.sessions.apply({ consents: [], sessions: [], endedSessions: [{ sessionId: SESSION_ID, cause: 'CONSENT_TIMEOUT' }] });
    expect(r.sessions.pendingConsents()).toEqual([]);
    expect(r.audit().find((e) => e.action === 'consent.closed')?.detail).toMatchObject({ sessionId: SESSION_ID, cause: 'CONSENT_TIMEOUT' });
    expect(r.changes).toBe(2);
  });
});

describe('active sessions at the device', () => {
  it('shows who is connected, from a grant it verified, and follows observers joining', async () => {
    const r = rig();
    const grant = await signGrant(fixture.keys().server, { scopes: ['diagnose', 'files'] });
    await r.sessions.apply({ consents: [], sessions: [deviceSession(grant)], endedSessions: [] });
    expect(r.sessions.activeSessions()).toMatchObject([{ sessionId: SESSION_ID, controller: { username: 'jdoe' }, observers: [], scopes: ['diagnose', 'files'] }]);
    expect(r.audit().find((e) => e.action === 'session.started')?.detail).toMatchObject({ sessionId: SESSION_ID, controller: 'jdoe' });

    const observers = [{ username: 'asmith', displayName: 'Al Smith' }];
    await r.sessions.apply({ consents: [], sessions: [deviceSession(grant, { observers })], endedSessions: [] });
    expect(r.sessions.activeSessions()[0]?.observers).toEqual(observers);
    expect(r.changes).toBe(2);
    expect(r.audit().filter((e) => e.action === 'session.started')).toHaveLength(1);
  });

  it('ignores a listed session whose grant fails verification, auditing it once', async () => {
    const r = rig();
    const forged = await signGrant(fixture.keys().forger);
    await r.sessions.apply({ consents: [], sessions: [deviceSession(forged)], endedSessions: [] });
    await r.sessions.apply({ consents: [], sessions: [deviceSession(forged)], endedSessions: [] });
    expect(r.sessions.activeSessions()).toEqual([]);
    const ignored = r.audit().filter((e) => e.action === 'session.ignored');
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toMatchObject({ outcome: 'denied', detail: { check: 'forged' } });
  });

  const serverEnds: { cause: SessionEndCause; words: RegExp }[] = [
    { cause: 'USER_ENDED', words: /\(USER_ENDED\): ended by the engineer/ },
    { cause: 'ADMIN_TERMINATED', words: /\(ADMIN_TERMINATED\): terminated by an administrator/ },
  ];
  for (const { cause, words } of serverEnds) {
    it(`aborts the running commands of a session the server ended (${cause}) with SESSION_ENDED naming the cause`, async () => {
      const r = rig();
      await withRunningCommand(r, await signGrant(fixture.keys().server));
      await r.sessions.apply({ consents: [], sessions: [], endedSessions: [{ sessionId: SESSION_ID, cause }] });

      await waitFor(() => r.last('cmd-running')?.state === 'canceled', { timeoutMs: 2000 });
      expect(r.last('cmd-running')?.error?.code).toBe('SESSION_ENDED');
      expect(r.last('cmd-running')?.error?.message).toMatch(words);
      expect(r.sessions.activeSessions()).toEqual([]);
      expect(r.audit().find((e) => e.action === 'session.ended')?.detail).toMatchObject({ sessionId: SESSION_ID, cause, abortedCommands: 1 });
      expect(r.changes).toBe(2);
    });
  }

  it('ends a session when its grant expires: running commands canceled with SESSION_ENDED (EXPIRED)', async () => {
    const r = rig();
    const grant = await signGrant(fixture.keys().server, { exp: Math.floor(Date.now() / 1000) + 2 });
    await withRunningCommand(r, grant);

    await waitFor(() => r.last('cmd-running')?.state === 'canceled', { timeoutMs: 3000 });
    expect(r.last('cmd-running')?.error).toEqual({ code: 'SESSION_ENDED', message: 'the session ended (EXPIRED): its time ran out' });
    expect(r.sessions.activeSessions()).toEqual([]);
    expect(r.audit().find((e) => e.action === 'session.expired')?.detail).toMatchObject({ sessionId: SESSION_ID, abortedCommands: 1 });
    // the server lists it a moment longer with its old grant: neither re-admitted nor news
    await r.sessions.apply({ consents: [], sessions: [deviceSession(grant)], endedSessions: [] });
    expect(r.sessions.activeSessions()).toEqual([]);
    expect(r.audit().some((e) => e.action === 'session.ignored')).toBe(false);
  });

  it('revoked by the operator: commands aborted, the server told at once, and the revocation outlives a restart', async () => {
    const r = rig();
    const grant = await signGrant(fixture.keys().server);
    await withRunningCommand(r, grant);

    const revocation = r.sessions.revokeSession(SESSION_ID, 'Pat Biomed');
    expect(revocation).toMatchObject({ sessionId: SESSION_ID, operator: 'Pat Biomed' });
    await waitFor(() => r.last('cmd-running')?.state === 'canceled', { timeoutMs: 2000 });
    expect(r.last('cmd-running')?.error).toEqual({ code: 'SESSION_ENDED', message: 'the session ended (CUSTOMER_REVOKED): revoked at the device by Pat Biomed' });
    expect(r.outgoingSignals).toBe(1);
    expect(r.sessions.takeOutgoing().sessionRevocations).toEqual([revocation]);
    expect(r.audit().find((e) => e.action === 'session.revoked')?.detail).toMatchObject({ sessionId: SESSION_ID, operator: 'Pat Biomed', abortedCommands: 1 });

    const restarted = await r.restart();
    fixture.track(restarted);
    await restarted.sessions.apply({ consents: [], sessions: [deviceSession(grant)], endedSessions: [] });
    expect(restarted.sessions.activeSessions()).toEqual([]);
    expect(restarted.sessions.takeOutgoing().sessionRevocations).toMatchObject([{ sessionId: SESSION_ID }]);
    expect(verifyLocalAudit(`${r.dir}/audit.jsonl`).ok).toBe(true);
  });

  it('refuses to revoke a session that is not active', () => {
    const r = rig();
    expect(() => r.sessions.revokeSession(SESSION_ID, 'Pat')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('ends a session the server stops listing even when it gives no cause', async () => {
    const r = rig();
    await r.sessions.apply({ consents: [], sessions: [deviceSession(await signGrant(fixture.keys().server))], endedSessions: [] });
    await r.sessions.apply({ consents: [], sessions: [], endedSessions: [] });
    expect(r.sessions.activeSessions()).toEqual([]);
    expect(r.audit().find((e) => e.action === 'session.ended')?.detail).toMatchObject({ cause: null, reason: 'the session ended: the server no longer lists it' });
  });
});
