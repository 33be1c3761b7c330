import { AUDIT_ROUTES } from './api/audit.ts';
import { AUTH_ROUTES } from './api/auth.ts';
import { COMMAND_ROUTES } from './api/commands.ts';
import { FLEET_ROUTES } from './api/fleet.ts';
import { LIVE_ROUTES } from './api/live.ts';
import { META_ROUTES } from './api/meta.ts';
import { SESSION_ROUTES } from './api/sessions.ts';
import { TRANSFER_ROUTES } from './api/transfers.ts';
import { TUNNEL_ROUTES } from './api/tunnels.ts';
import type { RouteTable } from './route.ts';

/** `/api/v1`: what consoles (and administrators' tools) call — every route, by name. */
export const API_ROUTES = {
  prefix: '/api/v1',
  routes: {
    ...META_ROUTES,
    ...LIVE_ROUTES,
    ...AUTH_ROUTES,
    ...FLEET_ROUTES,
    ...COMMAND_ROUTES,
    ...SESSION_ROUTES,
    ...TRANSFER_ROUTES,
    ...TUNNEL_ROUTES,
    ...AUDIT_ROUTES,
  },
} as const satisfies RouteTable;

export type ApiRoutes = typeof API_ROUTES.routes;
export type ApiRouteName = keyof ApiRoutes;
