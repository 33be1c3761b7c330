import { describe, expect, it } from 'vitest';
import { asJustRequested, openSessionOf, roleIn, sessionNotice, upsertSession } from '../../../src/renderer/stores/service-session-reducers.ts';
import { awaitingView, sessionView } from './fixtures.ts';

const ME = 'u1';
const observer = { id: 'u2', username: 'ann', displayName: 'A. Observer' };
const ended = (cause: Parameters<typeof sessionView>[0]['endCause'], over = {}) =>
  sessionView({ id: 's1', state: 'ended', endCause: cause, endedAt: '2025-01-01T10:10:00.000Z', timeline: [...sessionView({ id: 's1' }).timeline, { at: '2025-01-01T10:10:00.000Z', type: 'ended', detail: null }], ...over });

describe('the open session and who is in it', () => {
  it('finds the session waiting for consent or active, not the ended ones', () => {
    const old = ended('USER_ENDED', { id: 's0' });
    expect(openSessionOf([old])).toBeNull();
    expect(openSessionOf([awaitingView({ id: 's1' }), old])?.id).toBe('s1');
    expect(openSessionOf(null)).toBeNull();
  });

  it('tells the controller from an observer and from someone not in it', () => {
    const session = sessionView({ id: 's1', observers: [observer] });
    expect(roleIn(session, 'u1')).toBe('controller');
    expect(roleIn(session, 'u2')).toBe('observer');
    expect(roleIn(session, 'u3')).toBeNull();
    expect(roleIn(session, null)).toBeNull();
  });
});

describe('upsertSession', () => {
  it('adds a new session newest first and replaces a known one', () => {
    const older = ended('USER_ENDED', { id: 's0', createdAt: '2024-12-31T10:00:00.000Z' });
    const list = upsertSession([older], awaitingView({ id: 's1' }));
    expect(list.map((s) => s.id)).toEqual(['s1', 's0']);
    expect(upsertSession(list, sessionView({ id: 's1' }))[0]!.state).toBe('active');
  });

  it('ignores an answer that crossed a newer event: an ended session never reopens, a timeline never shrinks', () => {
    const list = [ended('CUSTOMER_REVOKED')];
    expect(upsertSession(list, sessionView({ id: 's1' }))).toBe(list);
    const active = [sessionView({ id: 's1' })];
    expect(upsertSession(active, awaitingView({ id: 's1' }))).toBe(active);
  });
});

describe('sessionNotice', () => {
  it('says who granted consent when the session becomes active', () => {
    expect(sessionNotice(awaitingView({ id: 's1' }), sessionView({ id: 's1' }), ME, 'SFX-US00001')).toMatchObject({
      tone: 'granted',
      title: 'Consent granted by Pat Biomed',
      message: expect.stringContaining('SFX-US00001'),
    });
  });

  it('says the policy allowed a session this console just asked for', () => {
    const active = sessionView({ id: 's1', decidedBy: 'policy' });
    expect(sessionNotice(asJustRequested(active), active, ME, 'SFX-US00001')).toMatchObject({ title: 'Session started', message: expect.stringContaining('consent policy') });
  });

  it('tells a denial from a timeout', () => {
    const waiting = awaitingView({ id: 's1' });
    const denied = awaitingView({ id: 's1', state: 'denied', endCause: 'DENIED', decidedBy: 'Pat Biomed' });
    const timedOut = awaitingView({ id: 's1', state: 'denied', endCause: 'CONSENT_TIMEOUT' });
    expect(sessionNotice(waiting, denied, ME, 'SFX-US00001')).toMatchObject({ tone: 'refused', title: 'Consent denied', message: expect.stringContaining('Pat Biomed said no') });
    expect(sessionNotice(waiting, timedOut, ME, 'SFX-US00001')).toMatchObject({ tone: 'refused', title: 'Nobody answered in time' });
  });

  it('names the end cause in words when an active session ends, for the controller and observers', () => {
    const active = sessionView({ id: 's1', observers: [observer] });
    expect(sessionNotice(active, ended('CUSTOMER_REVOKED', { observers: [observer] }), ME, 'SFX-US00001')).toMatchObject({
      tone: 'refused',
      title: 'Session ended: revoked at the device by the customer',
      message: expect.stringContaining('has been stopped'),
    });
    expect(sessionNotice(active, ended('EXPIRED', { observers: [observer] }), 'u2', 'SFX-US00001')?.title).toBe('Session ended: its time ran out');
    expect(sessionNotice(active, ended('USER_ENDED'), ME, 'SFX-US00001')).toMatchObject({ tone: 'ended', title: 'Session ended: ended by the engineer' });
  });

  it('announces more time, and an extension that was not granted', () => {
    const asking = sessionView({ id: 's1', pendingExtension: { durationMinutes: 15, deadline: '2025-01-01T10:20:00.000Z' } });
    const longer = sessionView({ id: 's1', expiresAt: '2025-01-01T10:45:20.000Z' });
    expect(sessionNotice(asking, longer, ME, 'SFX-US00001')?.title).toBe('More time granted');
    const refused = sessionView({ id: 's1', timeline: [...asking.timeline, { at: '2025-01-01T10:19:00.000Z', type: 'extension-denied', detail: 'by Pat Biomed at the device' }] });
    expect(sessionNotice(asking, refused, ME, 'SFX-US00001')).toMatchObject({ title: 'No extension', message: expect.stringContaining('denied by Pat Biomed at the device') });
  });

  it('stays quiet for a session first seen, one the user is not in, and a change of nothing that matters', () => {
    expect(sessionNotice(null, sessionView({ id: 's1' }), ME, 'SFX-US00001')).toBeNull();
    expect(sessionNotice(awaitingView({ id: 's1' }), sessionView({ id: 's1' }), 'u9', 'SFX-US00001')).toBeNull();
    const active = sessionView({ id: 's1' });
    expect(sessionNotice(active, sessionView({ id: 's1', observers: [observer] }), ME, 'SFX-US00001')).toBeNull();
  });
});
