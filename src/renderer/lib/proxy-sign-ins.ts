import type { ProxySignIn } from '#contract/proxy';

/**
 * The "Proxy sign-in" rows of Network settings as the user edits them, and what they
 * become: the settings' `signIns` and the passwords for the vault.
 */

/** One sign-in as edited: the password field is empty unless the user types a new one. */
export interface SignInRow {
  id: number;
  proxy: string;
  username: string;
  password: string;
}

let nextRowId = 1;

export function newSignInRow(): SignInRow {
  return { id: nextRowId++, proxy: '', username: '', password: '' };
}

/** Rows for saved sign-ins; their passwords stay in the vault and are never read back. */
export function signInRowsOf(signIns: readonly ProxySignIn[] | undefined): SignInRow[] {
  return (signIns ?? []).map((s) => ({ ...newSignInRow(), proxy: s.proxy, username: s.username }));
}

/** The rows the user filled in, as settings and as the passwords to store (typed ones only; blank rows are dropped). */
export function signInsOf(rows: readonly SignInRow[]): { signIns: ProxySignIn[]; passwords: Record<string, string> } {
  const filled = rows.filter((r) => r.proxy.trim() || r.username.trim());
  const passwords: Record<string, string> = {};
  for (const row of filled) if (row.password) passwords[row.proxy.trim()] = row.password;
  return { signIns: filled.map((r) => ({ proxy: r.proxy.trim(), username: r.username.trim() })), passwords };
}
