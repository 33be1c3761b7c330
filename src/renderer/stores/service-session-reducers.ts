import type { SessionView } from '#contract/api/sessions';
import { END_CAUSE_TEXT } from '#contract/sessions';
import { formatTime } from '../lib/time-format.ts';

/** A session that still holds the device: waiting for the customer, or running. */
export function isOpenSession(session: SessionView): boolean {
  return session.state === 'awaiting-consent' || session.state === 'active';
}

/** The device's open session (at most one per device), or null. */
export function openSessionOf(sessions: readonly SessionView[] | null): SessionView | null {
  return sessions?.find(isOpenSession) ?? null;
}

const isOver = (session: SessionView) => session.state === 'ended' || session.state === 'denied';

/**
 * Whether `incoming` is older than the `known` version of the same session: answers and
 * events can cross, so an ended session never reopens and a timeline never shrinks.
 */
export function isStaleUpdate(known: SessionView, incoming: SessionView): boolean {
  if (isOver(known) && !isOver(incoming)) return true;
  return incoming.timeline.length < known.timeline.length;
}

/** The sessions (newest first) with one replaced or added; an older version is ignored. */
export function upsertSession(sessions: readonly SessionView[], session: SessionView): readonly SessionView[] {
  const known = sessions.find((s) => s.id === session.id);
  if (known && isStaleUpdate(known, session)) return sessions;
  return [session, ...sessions.filter((s) => s.id !== session.id)].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
}

/** How the signed-in user takes part in a session. */
export type SessionRole = 'controller' | 'observer' | null;

export function roleIn(session: SessionView, userId: string | null): SessionRole {
  if (!userId) return null;
  if (session.engineer.id === userId) return 'controller';
  return session.observers.some((o) => o.id === userId) ? 'observer' : null;
}

/** What a notification says about a session's change; `tone` picks its colour. */
export interface SessionNotice {
  tone: 'granted' | 'refused' | 'ended';
  title: string;
  message: string;
}

/** A stand-in for a session this console asked for and had not seen yet. */
export function asJustRequested(session: SessionView): SessionView {
  return { ...session, state: 'requested', endCause: null, expiresAt: null, pendingExtension: null, timeline: [] };
}

const laterThan = (a: string | null, b: string | null) => a !== null && (b === null || Date.parse(a) > Date.parse(b));

/**
 * What to tell the user when a session they take part in changed from `before` to
 * `after`, or null when nothing worth a notification happened (or they are not in it).
 * `device` names the device ("SFX-US00001").
 */
export function sessionNotice(before: SessionView | null, after: SessionView, userId: string | null, device: string): SessionNotice | null {
  if (!before) return null;
  if (before.state === after.state && before.expiresAt === after.expiresAt && Boolean(before.pendingExtension) === Boolean(after.pendingExtension)) return null;
  const role = roleIn(after, userId) ?? roleIn(before, userId);
  if (!role) return null;
  const cause = after.endCause;

  if (after.state === 'active' && before.state !== 'active') {
    const until = `until ${formatTime(after.expiresAt)}`;
    return after.decidedBy === 'policy' || !after.decidedBy
      ? { tone: 'granted', title: 'Session started', message: `The consent policy of ${device} allows it; you are connected ${until}.` }
      : { tone: 'granted', title: `Consent granted by ${after.decidedBy}`, message: `You are connected to ${device} ${until}.` };
  }
  if (after.state === 'denied' && before.state !== 'denied') {
    if (cause === 'DENIED') {
      const who = after.decidedBy && after.decidedBy !== 'policy' ? `${after.decidedBy} said no at ${device}` : `The consent policy of ${device} does not allow these scopes`;
      return { tone: 'refused', title: 'Consent denied', message: `${who}. The request is closed.` };
    }
    if (cause === 'CONSENT_TIMEOUT') {
      return { tone: 'refused', title: 'Nobody answered in time', message: `No one at ${device} answered the consent request. Call the site, then ask again.` };
    }
    if (cause === 'USER_ENDED') return { tone: 'ended', title: 'Request canceled', message: `The session request to ${device} was withdrawn.` };
    return { tone: 'refused', title: `Session ended: ${cause ? END_CAUSE_TEXT[cause] : 'no reason given'}`, message: `The request to ${device} is closed.` };
  }
  if (after.state === 'ended' && before.state !== 'ended') {
    const text = cause ? END_CAUSE_TEXT[cause] : 'no reason given';
    const more = role === 'controller' && cause !== 'USER_ENDED' ? ' Anything it was running has been stopped.' : '';
    return { tone: cause === 'USER_ENDED' ? 'ended' : 'refused', title: `Session ended: ${text}`, message: `The service session on ${device} is over.${more}` };
  }
  if (after.state === 'active' && before.state === 'active') {
    if (laterThan(after.expiresAt, before.expiresAt)) {
      return { tone: 'granted', title: 'More time granted', message: `The session on ${device} now runs until ${formatTime(after.expiresAt)}.` };
    }
    if (before.pendingExtension && !after.pendingExtension && role === 'controller') {
      const last = after.timeline.at(-1);
      const why =
        last?.type === 'extension-timeout'
          ? 'nobody answered at the device'
          : last?.type === 'extension-denied'
            ? `it was denied${last.detail ? ` ${last.detail}` : ''}`
            : 'it was not granted';
      return { tone: 'refused', title: 'No extension', message: `The session on ${device} keeps its time: ${why}.` };
    }
  }
  return null;
}
