import type { DeviceDetail } from '#contract/api/fleet';
import type { SessionView } from '#contract/api/sessions';
import { type ScopedWork, scopeBlockedReason } from '../../lib/session-format.ts';
import { useServiceSessions, useSession } from '../../stores/context.ts';
import { openSessionOf } from '../../stores/service-session-reducers.ts';

/**
 * A device tab whose work needs a scope of the open session (Files, Tunnels): the sessions
 * known yet, the open session, and why the work cannot be done now (null when it can).
 */
export function useScopeGate(work: ScopedWork, detail: DeviceDetail): { loaded: boolean; session: SessionView | null; reason: ReturnType<typeof scopeBlockedReason> } {
  const sessions = useServiceSessions((s) => s.sessions);
  const user = useSession((s) => (s.session?.signedIn ? s.session.user : null));
  const session = openSessionOf(sessions);
  return { loaded: Boolean(sessions), session, reason: scopeBlockedReason(work, session, user?.id ?? null, user?.role, detail) };
}
