import type { ApiRouteName, ApiRoutes } from '#contract/http/api-routes';
import type { ServerContext } from '../context.ts';
import { clientIp } from '../http/errors.ts';
import { principalOf } from '../http/auth-hook.ts';
import type { HandlersFor } from '../http/routes.ts';
import type { AuthService } from './auth-service.ts';

/** Sign-in, token refresh, sign-out and the signed-in user; sign-in and refresh are rate-limited per address. */
export function authHandlers(ctx: ServerContext, auth: AuthService): HandlersFor<ApiRoutes, Extract<ApiRouteName, `auth.${string}`>> {
  const { max, windowMs } = ctx.config.loginRateLimit;
  return {
    'auth.login': {
      handle: async (request) => auth.login(request.body.username, request.body.password, { ip: clientIp(request) }),
      extras: { config: { rateLimit: { max, timeWindow: windowMs } } },
    },
    'auth.refresh': {
      handle: async (request) => auth.refresh(request.body.refreshToken, { ip: clientIp(request) }),
      extras: { config: { rateLimit: { max: max * 4, timeWindow: windowMs } } },
    },
    'auth.logout': async (request) => {
      await auth.logout(principalOf(request), { ip: clientIp(request) });
      return null;
    },
    'auth.me': async (request) => {
      const p = principalOf(request);
      return {
        id: p.id,
        username: p.username,
        displayName: p.displayName,
        role: p.role,
        customerIds: p.customers === 'all' ? ('all' as const) : [...p.customers],
      };
    },
  };
}
