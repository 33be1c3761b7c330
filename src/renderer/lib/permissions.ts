import type { Role } from '#contract/api/auth';

/** Why a role may not act on devices, or null when it may (the server enforces the same). */
export function actionBlockedReason(role: Role | undefined): string | null {
  return role === 'viewer' ? 'Your account is view-only: ask an administrator for an engineer role to act on devices.' : null;
}
