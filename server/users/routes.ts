import type { ApiRouteName, ApiRoutes } from '#contract/http/api-routes';
import { principalOf } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import type { HandlersFor } from '../http/routes.ts';
import type { UsersService } from './users-service.ts';

/** Administrators manage technician accounts. */
export function userHandlers(users: UsersService): HandlersFor<ApiRoutes, Extract<ApiRouteName, `users.${string}`>> {
  return {
    'users.list': async () => ({ items: await users.list() }),
    'users.create': async (request) => {
      const p = principalOf(request);
      return users.create(request.body, { actorType: 'user', actorId: p.id, actorName: p.username, ip: clientIp(request) });
    },
  };
}
