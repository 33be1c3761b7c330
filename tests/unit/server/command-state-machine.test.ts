import { describe, expect, it } from 'vitest';
import { eventForReportedState, isTerminal, nextCommandState, type CommandEvent } from '../../../server/commands/state-machine.ts';
import { COMMAND_STATES, TERMINAL_COMMAND_STATES, type CommandState } from '#contract/common';

const EVENTS: readonly CommandEvent[] = ['deliver', 'start', 'succeed', 'fail', 'cancel', 'expire'];

/** The documented lifecycle: state → event → next state; anything absent is refused. */
const ALLOWED: Record<CommandState, Partial<Record<CommandEvent, CommandState>>> = {
  queued: { deliver: 'delivered', cancel: 'canceled', expire: 'expired' },
  delivered: { deliver: 'delivered', start: 'running', succeed: 'succeeded', fail: 'failed', cancel: 'canceled', expire: 'expired' },
  running: { succeed: 'succeeded', fail: 'failed', cancel: 'canceled', expire: 'expired' },
  succeeded: {},
  failed: {},
  expired: {},
  canceled: {},
};

describe('command state machine', () => {
  for (const state of COMMAND_STATES) {
    for (const event of EVENTS) {
      const target = ALLOWED[state][event];
      it(target ? `moves ${state} to ${target} on ${event}` : `refuses ${event} from ${state}`, () => {
        expect(nextCommandState(state, event)).toBe(target);
      });
    }
  }

  it('accepts no event in any terminal state, and only terminal states are terminal', () => {
    for (const state of COMMAND_STATES) {
      const terminal = TERMINAL_COMMAND_STATES.includes(state);
      expect(isTerminal(state), state).toBe(terminal);
      if (terminal) for (const event of EVENTS) expect(nextCommandState(state, event), `${state}/${event}`).toBeUndefined();
    }
    expect([...TERMINAL_COMMAND_STATES].sort()).toEqual(['canceled', 'expired', 'failed', 'succeeded']);
  });

  it('never lets a command go back to queued, nor start before it was delivered', () => {
    for (const state of COMMAND_STATES) for (const event of EVENTS) expect(nextCommandState(state, event)).not.toBe('queued');
    expect(nextCommandState('queued', 'start')).toBeUndefined();
  });

  it('maps each state an agent reports to the event that reaches that state', () => {
    expect(eventForReportedState('running')).toBe('start');
    expect(eventForReportedState('succeeded')).toBe('succeed');
    expect(eventForReportedState('failed')).toBe('fail');
    expect(eventForReportedState('canceled')).toBe('cancel');
    expect(eventForReportedState('expired')).toBe('expire');
    for (const reported of ['running', 'succeeded', 'failed', 'canceled', 'expired'] as const) {
      expect(nextCommandState('delivered', eventForReportedState(reported))).toBe(reported);
    }
  });
});
