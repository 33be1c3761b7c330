import type { CommandState } from '#contract/common';

/** What can happen to a command, and who makes it happen. */
export type CommandEvent =
  | 'deliver' // the server hands it to the agent in a poll answer (again, if unacknowledged)
  | 'start' // the agent reports it running
  | 'succeed'
  | 'fail'
  | 'cancel'
  | 'expire';

const TARGET: Record<CommandEvent, CommandState> = {
  deliver: 'delivered',
  start: 'running',
  succeed: 'succeeded',
  fail: 'failed',
  cancel: 'canceled',
  expire: 'expired',
};

const ALLOWED: Record<CommandState, readonly CommandEvent[]> = {
  queued: ['deliver', 'cancel', 'expire'],
  delivered: ['deliver', 'start', 'succeed', 'fail', 'cancel', 'expire'],
  running: ['succeed', 'fail', 'cancel', 'expire'],
  succeeded: [],
  failed: [],
  expired: [],
  canceled: [],
};

/**
 * The next state of a command, or undefined when `event` is not allowed from `state`
 * (for instance a late report about a command that already ended). Pure, so every rule
 * of the lifecycle is tested without a server.
 */
export function nextCommandState(state: CommandState, event: CommandEvent): CommandState | undefined {
  return ALLOWED[state].includes(event) ? TARGET[event] : undefined;
}

/** The event an agent's state report stands for. */
export function eventForReportedState(state: 'running' | 'succeeded' | 'failed' | 'canceled' | 'expired'): CommandEvent {
  switch (state) {
    case 'running':
      return 'start';
    case 'succeeded':
      return 'succeed';
    case 'failed':
      return 'fail';
    case 'canceled':
      return 'cancel';
    case 'expired':
      return 'expire';
  }
}

export function isTerminal(state: CommandState): boolean {
  return ALLOWED[state].length === 0;
}
