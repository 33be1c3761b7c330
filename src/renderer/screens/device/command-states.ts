import type { CommandState } from '#contract/common';

/** The colour of a command state's badge, the same in the Commands and Diagnostics tabs. */
export const COMMAND_STATE_COLORS: Readonly<Record<CommandState, string>> = {
  queued: 'gray',
  delivered: 'blue',
  running: 'blue',
  succeeded: 'teal',
  failed: 'red',
  expired: 'orange',
  canceled: 'gray',
};
