import type { SessionView } from '#contract/api/sessions';
import type { SessionScope } from '#contract/sessions';
import type { Db } from '../store/database.ts';
import type { ServiceSessionRow } from '../store/schema.ts';
import { iso } from '../devices/views.ts';

export function sessionScopes(row: Pick<ServiceSessionRow, 'scopes'>): SessionScope[] {
  return JSON.parse(row.scopes) as SessionScope[];
}

/** Builds the console's view of sessions: engineer, observers and timeline, in three queries. */
export async function toSessionViews(db: Db, rows: readonly ServiceSessionRow[]): Promise<SessionView[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const people = await db
    .selectFrom('session_participants as p')
    .innerJoin('users as u', 'u.id', 'p.user_id')
    .select(['p.session_id', 'p.role', 'p.left_at', 'u.id', 'u.username', 'u.display_name'])
    .where('p.session_id', 'in', ids)
    .execute();
  const events = await db.selectFrom('session_events').selectAll().where('session_id', 'in', ids).orderBy('id').execute();
  return rows.map((row) => {
    const mine = people.filter((p) => p.session_id === row.id);
    const controller = mine.find((p) => p.role === 'controller');
    return {
      id: row.id,
      deviceId: row.device_id,
      state: row.state,
      endCause: row.end_cause,
      scopes: sessionScopes(row),
      reason: row.reason,
      durationMinutes: Number(row.duration_minutes),
      engineer: { id: row.engineer_id, username: controller?.username ?? '?', displayName: controller?.display_name ?? '?' },
      observers: mine.filter((p) => p.role === 'observer' && p.left_at === null).map((p) => ({ id: p.id, username: p.username, displayName: p.display_name })),
      createdAt: iso(row.created_at) ?? '',
      consentDeadline: row.state === 'awaiting-consent' ? iso(row.consent_deadline) : null,
      decidedBy: row.decided_by,
      decidedAt: iso(row.decided_at),
      activatedAt: iso(row.activated_at),
      expiresAt: iso(row.expires_at),
      endedAt: iso(row.ended_at),
      pendingExtension:
        row.consent_kind === 'extend' && row.consent_deadline !== null
          ? { durationMinutes: Number(row.extension_minutes ?? 0), deadline: iso(row.consent_deadline) ?? '' }
          : null,
      timeline: events.filter((e) => e.session_id === row.id).map((e) => ({ at: iso(e.at) ?? '', type: e.type, detail: e.detail })),
    };
  });
}
