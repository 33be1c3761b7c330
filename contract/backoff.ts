/** Settings of a retry schedule. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * Delay before retry number `attempt` (0 for the first retry): "full jitter" exponential
 * backoff, uniformly random in [0, min(max, base·2^attempt)]. The randomness spreads
 * thousands of agents that lost the same server so they do not return in one wave.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
