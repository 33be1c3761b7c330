import type { FastifyRequest, preHandlerHookHandler } from 'fastify';
import { TetherError } from '#contract/errors';
import type { Capability } from '#contract/api/auth';
import { type Principal, can } from '../access/principal.ts';
import type { AuthService } from '../auth/auth-service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * A preHandler that admits only signed-in users whose role has `capability`. Scope (which
 * customer) is checked by each route against the record it touches, answering 404.
 */
export function requireCapability(auth: AuthService, capability: Capability): preHandlerHookHandler {
  return async (request) => {
    const principal = await auth.authenticate(request.headers.authorization);
    if (!can(principal, capability)) {
      throw new TetherError('FORBIDDEN', `your role (${principal.role}) may not do this`);
    }
    request.principal = principal;
  };
}

/** The principal a `requireCapability` preHandler put on the request. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new TetherError('UNAUTHENTICATED', 'sign in first');
  return request.principal;
}
