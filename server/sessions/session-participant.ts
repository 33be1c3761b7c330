import type { Transaction } from 'kysely';
import type { SessionEndCause } from '#contract/sessions';
import type { Database, ServiceSessionRow } from '../store/schema.ts';

/** A step a session's end leaves for after its transaction committed (consoles told of what stopped). */
export type AfterSessionEnd = () => Promise<void>;

/** The steps the session ends of one transaction left, taken in order once it committed. */
export type SessionEnds = AfterSessionEnd[];

/**
 * A domain whose work lives in a service session. Ending a session stops that work in
 * the same transaction (so a session is never ended with its work still going); once it
 * committed, the steps the stops returned run, consoles hear of the session, and then
 * each participant finishes what needs the commit (cutting links, purging, starting
 * queued work).
 */
export interface SessionParticipant {
  /** Stops the session's work inside the transaction that ends it; returns what to announce after the commit, if anything. */
  stopForSession(trx: Transaction<Database>, session: ServiceSessionRow, cause: SessionEndCause, now: number): Promise<AfterSessionEnd | void>;
  /** After any committed change of these sessions (and their announcement): finish what their ends left. */
  afterSessionsChanged(sessionIds: readonly string[]): Promise<void>;
}

/**
 * One participant per domain whose work lives in a session: leaving one out is a type
 * error, so no session can end while that domain's work carries on.
 */
export interface SessionParticipants {
  commands: SessionParticipant;
  transfers: SessionParticipant;
  tunnels: SessionParticipant;
}
