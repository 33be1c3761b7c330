import { type BackoffPolicy, backoffDelay } from '#contract/backoff';
import { type ErrorCode, TetherError } from '#contract/errors';

/**
 * What the engine does when a run fails, decided from the error's code alone so it is
 * tested without a server: stop quietly, look at the server first, try again after a
 * backoff, or fail the transfer.
 */

/** Automatic retries after failures worth trying again, with the backoff between them. */
export type RetryPolicy = BackoffPolicy & { maxAttempts: number };

/** Ten tries in a row, one second doubling up to thirty (full jitter). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 1000, maxMs: 30_000, maxAttempts: 10 };

/** A retry never comes sooner than this, whatever the jitter drew. */
const SHORTEST_RETRY_MS = 250;

/**
 * `signed-out`: the console lost its sign-in; the run stops quietly and resumes at the next one.
 * `server-changed`: the server's side changed; look at the transfer there before deciding (then retried like a transient one).
 * `transient`: the network, a busy or restarting server; tried again by itself.
 * `final`: anything else; the transfer fails until the engineer retries it.
 */
export type FailureClass = 'signed-out' | 'server-changed' | 'transient' | 'final';

const TRANSIENT: ReadonlySet<ErrorCode> = new Set(['SERVER_UNREACHABLE', 'PROXY_REFUSED', 'RATE_LIMITED', 'INTERNAL', 'CHUNK_NOT_READY', 'CONFLICT', 'TOKEN_EXPIRED']);
const SERVER_CHANGED: ReadonlySet<ErrorCode> = new Set(['TRANSFER_NOT_ACTIVE', 'SESSION_ENDED', 'SESSION_NOT_ACTIVE', 'TRANSFER_EXPIRED']);
const SIGNED_OUT: ReadonlySet<ErrorCode> = new Set(['NOT_SIGNED_IN', 'TOKEN_INVALID', 'REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED', 'ACCOUNT_DISABLED']);

/** The class of a run's failure, by its code. */
export function failureClass(code: ErrorCode): FailureClass {
  if (SIGNED_OUT.has(code)) return 'signed-out';
  if (SERVER_CHANGED.has(code)) return 'server-changed';
  if (TRANSIENT.has(code)) return 'transient';
  return 'final';
}

/**
 * The wait before the next automatic try after `failures` failures in a row, or null when
 * this failure ends the transfer (not worth retrying, or retried too often already).
 */
export function retryDelay(failure: FailureClass, failures: number, policy: RetryPolicy, random: () => number = Math.random): number | null {
  if (failure !== 'transient' && failure !== 'server-changed') return null;
  if (failures >= policy.maxAttempts) return null;
  return Math.max(SHORTEST_RETRY_MS, backoffDelay(policy, failures, random));
}

/** Anything a run threw, as a TetherError (a local file failure keeps its system message). */
export function asTetherError(err: unknown): TetherError {
  if (err instanceof TetherError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC') return new TetherError('FILE_TOO_LARGE', 'the disk of this computer is full');
  if (e?.code === 'ENOENT') return new TetherError('FILE_NOT_FOUND', e.message);
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return new TetherError('FORBIDDEN', `this console may not write there: ${e.message}`);
  return new TetherError('INTERNAL', e?.message ?? String(err));
}
