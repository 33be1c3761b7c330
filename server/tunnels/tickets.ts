import { createHash, randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { TetherError } from '#contract/errors';
import type { Database, TunnelRow } from '../store/schema.ts';

type Trx = Transaction<Database>;

/**
 * One-time tickets for the console leg: 32 random bytes (base64url) handed to the engineer
 * who opened the tunnel; only their SHA-256 is stored. A ticket is bound to its user,
 * session, device, tunnel and target, lives `ticketTtlMs`, and is spent by the first
 * attempt that presents it — whether that attempt is then admitted or not.
 */
export function newTicket(): string {
  return randomBytes(32).toString('base64url');
}

export function hashTicket(ticket: string): string {
  return createHash('sha256').update(ticket).digest('hex');
}

/** Stores a fresh ticket for `tunnel`, issued to `userId`; returns the ticket and its expiry. */
export async function issueTicketIn(trx: Trx, tunnel: Pick<TunnelRow, 'id' | 'session_id' | 'device_id' | 'target_id'>, userId: string, ttlMs: number, now: number): Promise<{ ticket: string; expiresAt: number }> {
  const ticket = newTicket();
  const expiresAt = now + ttlMs;
  // expired tickets of the tunnel are of no use to anyone
  await trx.deleteFrom('tunnel_tickets').where('tunnel_id', '=', tunnel.id).where('expires_at', '<=', now).execute();
  await trx
    .insertInto('tunnel_tickets')
    .values({ ticket_hash: hashTicket(ticket), tunnel_id: tunnel.id, user_id: userId, session_id: tunnel.session_id, device_id: tunnel.device_id, target_id: tunnel.target_id, created_at: now, expires_at: expiresAt, used_at: null })
    .execute();
  return { ticket, expiresAt };
}

/**
 * Spends a ticket for the console leg of `tunnel` by `userId`. Returns why it is refused
 * (for the audit entry; never the ticket itself), or undefined when it is good. The ticket
 * is marked used either way, so the caller commits before it refuses.
 */
export async function redeemTicketIn(trx: Trx, ticket: string, tunnel: Pick<TunnelRow, 'id' | 'session_id' | 'device_id' | 'target_id'>, userId: string, now: number): Promise<string | undefined> {
  const hash = hashTicket(ticket);
  const row = await trx.selectFrom('tunnel_tickets').selectAll().where('ticket_hash', '=', hash).executeTakeFirst();
  if (!row) return 'unknown ticket';
  if (row.used_at !== null) return 'ticket replayed: it was used before';
  const spent = await trx.updateTable('tunnel_tickets').set({ used_at: now }).where('ticket_hash', '=', hash).where('used_at', 'is', null).executeTakeFirst();
  // two attempts with one ticket at once: only one of them spends it (on a store without serialised transactions too)
  if (spent.numUpdatedRows === 0n) return 'ticket replayed: it was used before';
  if (Number(row.expires_at) <= now) return 'ticket expired';
  if (row.tunnel_id !== tunnel.id || row.session_id !== tunnel.session_id || row.device_id !== tunnel.device_id || row.target_id !== tunnel.target_id) return 'ticket is for another tunnel';
  if (row.user_id !== userId) return 'ticket was issued to another user';
  return undefined;
}

/** The refusal a console sees for a bad ticket. */
export function ticketRefused(reason: string): TetherError {
  return new TetherError('TUNNEL_TICKET_INVALID', `tunnel ticket refused: ${reason}`, { reason });
}
