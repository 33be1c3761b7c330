import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SESSION_ROUTES } from '#contract/http/api/sessions';
import type { ApiRoutes } from '#contract/http/api-routes';
import { isDeviceModelId } from '#contract/device-models';
import { commandSpec, type CommandName } from '#contract/protocol/commands';
import { DIAGNOSTIC_CATALOG, diagnosticsFor } from '#contract/protocol/diagnostics';
import { TetherError } from '#contract/errors';
import type { FleetService } from '../devices/fleet-service.ts';
import { principalOf } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import type { HandlersFor } from '../http/routes.ts';
import type { SessionService } from './session-service.ts';

/** Service sessions, the diagnostics a device offers, and consent policies. */
export function sessionHandlers(sessions: SessionService, fleet: FleetService): HandlersFor<ApiRoutes, keyof typeof SESSION_ROUTES> {
  const actor = (request: FastifyRequest) => {
    const p = principalOf(request);
    return { actorType: 'user' as const, actorId: p.id, actorName: p.username, ip: clientIp(request) };
  };
  return {
    'sessions.request': async (request) => sessions.request(principalOf(request), request.params.deviceId, request.body, clientIp(request)),
    'sessions.listForDevice': async (request) => ({ items: await sessions.listForDevice(principalOf(request), request.params.deviceId) }),
    'sessions.get': async (request) => sessions.get(principalOf(request), request.params.sessionId),
    'sessions.extend': async (request) => sessions.extend(principalOf(request), request.params.sessionId, request.body.durationMinutes, clientIp(request)),
    'sessions.end': async (request) => sessions.end(principalOf(request), request.params.sessionId, clientIp(request)),
    'sessions.join': async (request) => sessions.join(principalOf(request), request.params.sessionId, clientIp(request)),
    'sessions.leave': async (request) => sessions.leave(principalOf(request), request.params.sessionId, clientIp(request)),
    'diagnostics.list': async (request) => {
      const device = await fleet.requireDevice(principalOf(request), request.params.deviceId);
      const names = isDeviceModelId(device.model_id) ? diagnosticsFor(device.model_id) : [];
      return {
        items: names.map((name) => {
          const spec = commandSpec(name as CommandName);
          return {
            name,
            label: spec.label,
            description: spec.description,
            scope: spec.scope ?? 'diagnose',
            paramsSchema: z.toJSONSchema(DIAGNOSTIC_CATALOG[name].params, { io: 'input' }) as Record<string, unknown>,
          };
        }),
      };
    },
    'consentPolicy.getCustomer': async (request) => {
      const customers = await fleet.listCustomers(principalOf(request));
      if (!customers.some((c) => c.id === request.params.customerId)) throw customerNotFound(request.params.customerId);
      return sessions.policies.forCustomer(request.params.customerId);
    },
    'consentPolicy.setCustomer': async (request) => {
      const customers = await fleet.listCustomers(principalOf(request));
      if (!customers.some((c) => c.id === request.params.customerId)) throw customerNotFound(request.params.customerId);
      await sessions.policies.set({ type: 'customer', id: request.params.customerId }, request.body.policies, actor(request));
      return sessions.policies.forCustomer(request.params.customerId);
    },
    'consentPolicy.getDevice': async (request) => {
      const device = await fleet.requireDevice(principalOf(request), request.params.deviceId);
      const own = await sessions.policies.forSubject({ type: 'device', id: device.id });
      return { policies: await sessions.policies.effective(device.id, device.customer_id), inherited: Object.keys(own).length === 0 };
    },
    'consentPolicy.setDevice': async (request) => {
      const device = await fleet.requireDevice(principalOf(request), request.params.deviceId);
      await sessions.policies.set({ type: 'device', id: device.id }, request.body.policies, actor(request));
      return { policies: await sessions.policies.effective(device.id, device.customer_id), inherited: request.body.policies === null };
    },
  };
}

function customerNotFound(id: string): TetherError {
  return new TetherError('NOT_FOUND', `no customer ${id}`);
}
