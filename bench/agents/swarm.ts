import type { EnrollOutcome } from './messages.ts';

/** What an agent process counts, besides receipts. */
export interface SwarmCounters {
  pollAnswers: number;
  connectionErrors: number;
  lastConnectionError?: string;
}

/** The devices one agent process plays: real Tether agents, or bare long-poll clients. */
export interface AgentSwarm {
  /** Tether: enrolls every device. Bare: nothing to do. */
  enroll(): Promise<EnrollOutcome>;
  /** Starts polling; returns how many devices poll. */
  start(): number;
  counters(): SwarmCounters;
  stop(): Promise<void>;
}
