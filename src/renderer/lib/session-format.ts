import type { SessionView } from '../../shared/api/sessions.ts';
import { END_CAUSE_TEXT, SESSION_SCOPES, type ServiceSessionState, type SessionEndCause, type SessionPerson, type SessionScope } from '../../shared/sessions.ts';
import { roleIn } from '../stores/service-session-reducers.ts';
import { humanizeKey } from './format.ts';
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
