import type { Role } from '#contract/api/auth';
import type { DeviceDetail } from '#contract/api/fleet';
import type { SessionView } from '#contract/api/sessions';
import { END_CAUSE_TEXT, SESSION_SCOPES, type ServiceSessionState, type SessionEndCause, type SessionPerson, type SessionScope } from '#contract/sessions';
import { roleIn } from '../stores/service-session-reducers.ts';
import { humanizeKey } from './format.ts';
import { actionBlockedReason } from './permissions.ts';
import { formatDateTime } from './time-format.ts';

/** How the console names the scopes of a session. */
export const SCOPE_LABELS: Readonly<Record<SessionScope, string>> = { diagnose: 'Diagnose', files: 'Files', tunnel: 'Tunnel', deploy: 'Deploy' };

/** "Diagnose, Files", in the contract's scope order. */
export function scopeList(scopes: readonly SessionScope[]): string {
  return SESSION_SCOPES.filter((s) => scopes.includes(s))
    .map((s) => SCOPE_LABELS[s])
    .join(', ');
}

export const SESSION_STATE_LABELS: Readonly<Record<ServiceSessionState, string>> = {
  requested: 'Requested',
  'awaiting-consent': 'Waiting for consent',
  active: 'Active',
  ended: 'Ended',
  denied: 'Denied',
};

/** "Revoked at the device by the customer"; a dash for a session that has not ended. */
export function endCauseSentence(cause: SessionEndCause | null): string {
  if (!cause) return '—';
  const text = END_CAUSE_TEXT[cause];
  return text[0]!.toUpperCase() + text.slice(1);
}

/** "consent-approved" → "Consent approved": a timeline entry's type in words. */
export function timelineEventLabel(type: string): string {
  return humanizeKey(type);
}

/** One person connected to a session, as the banner lists them. */
export interface ConnectedPerson {
  key: string;
  text: string;
  controller: boolean;
}

/** "You (in control)", "A. Observer (observing)": who is connected, the controller first. */
export function connectedPeople(session: SessionView, userId: string | null): ConnectedPerson[] {
  const name = (person: { id: string; displayName: string }) => (person.id === userId ? 'You' : person.displayName);
  return [
    { key: session.engineer.id, text: `${name(session.engineer)} (in control)`, controller: true },
    ...session.observers.map((o) => ({ key: o.id, text: `${name(o)} (observing)`, controller: false })),
  ];
}

/** Who the device's operator sees connected: "Sam Engineer (in control)", "A. Observer (observing)". */
export function operatorPeople(controller: SessionPerson, observers: readonly SessionPerson[]): string {
  return [`${controller.displayName} (in control)`, ...observers.map((o) => `${o.displayName} (observing)`)].join(', ');
}

/** Whether the signed-in user may run work in this session: they control it, it is active, it has the scope. */
export function controlsWithScope(session: SessionView | null, userId: string | null, scope: SessionScope): boolean {
  return session !== null && session.state === 'active' && roleIn(session, userId) === 'controller' && session.scopes.includes(scope);
}

/** A timeline detail as the engineer reads it: UTC instants the server wrote ("…T10:28:07.000Z") in local time. */
export function timelineDetail(detail: string | null): string {
  return (detail ?? '').replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\b/g, (iso) => formatDateTime(iso));
}

/** What a scope-gated tab does, in words for its explanation ("Browsing and transferring files", "the files appear here"). */
export interface ScopedWork {
  scope: SessionScope;
  /** "Browsing and transferring files needs …" */
  needs: string;
  /** "Waiting for the customer’s consent; <whenActive>." */
  whenActive: string;
  /** "… only they can <controllerOnly>." */
  controllerOnly: string;
}

/** Why scope-gated work is not possible here now (and whether asking for a session would help), or null. */
export function scopeBlockedReason(
  work: ScopedWork,
  session: SessionView | null,
  userId: string | null,
  role: Role | undefined,
  detail: Pick<DeviceDetail, 'status' | 'serial'>,
): { text: string; canRequest: boolean } | null {
  const blocked = actionBlockedReason(role);
  if (blocked) return { text: blocked, canRequest: false };
  if (controlsWithScope(session, userId, work.scope)) return null;
  const label = SCOPE_LABELS[work.scope];
  if (!session) {
    const offline = detail.status !== 'online' ? ` ${detail.serial} is ${detail.status}; a session needs the device online.` : '';
    return { text: `${work.needs} needs an active service session with the ${label} scope, which the customer consents to.${offline}`, canRequest: detail.status === 'online' };
  }
  if (session.state === 'awaiting-consent') return { text: `Waiting for the customer’s consent; ${work.whenActive}.`, canRequest: false };
  if (roleIn(session, userId) !== 'controller') return { text: `${session.engineer.displayName} is in control of this session; only they can ${work.controllerOnly}.`, canRequest: false };
  return { text: `This session does not include the ${label} scope. End it and request one with ${label}.`, canRequest: false };
}
