import { socketRoute, userWith } from '../route.ts';

/** The live events socket (messages: contract/api/live.ts). */
export const LIVE_ROUTES = {
  events: socketRoute({
    path: '/events', tags: ['live'], summary: 'Live events of the devices in your scope (contract/api/live.ts): status, data, alarms, events, command, session, transfer and tunnel changes',
    caller: userWith('view'), errors: [401],
  }),
} as const;
