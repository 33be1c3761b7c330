import type { FastifyRequest } from 'fastify';
import type { FLEET_ROUTES } from '#contract/http/api/fleet';
import type { ApiRoutes } from '#contract/http/api-routes';
import { principalOf } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import type { HandlersFor } from '../http/routes.ts';
import type { FleetService } from './fleet-service.ts';

function adminActor(request: FastifyRequest) {
  const p = principalOf(request);
  return { actorType: 'user' as const, actorId: p.id, actorName: p.username, ip: clientIp(request) };
}

/** Customers, sites, devices, their data, events and alarms. */
export function fleetHandlers(fleet: FleetService): HandlersFor<ApiRoutes, keyof typeof FLEET_ROUTES> {
  return {
    'customers.list': async (request) => ({ items: await fleet.listCustomers(principalOf(request)) }),
    'sites.list': async (request) => ({ items: await fleet.listSites(principalOf(request), request.query.customerId) }),
    'devices.list': async (request) => fleet.listDevices(principalOf(request), request.query),
    'devices.get': async (request) => fleet.getDevice(principalOf(request), request.params.deviceId),
    'devices.history': async (request) => fleet.history(principalOf(request), request.params.deviceId, request.params.key, request.query),
    'devices.events': async (request) => ({ items: await fleet.events(principalOf(request), request.params.deviceId, request.query) }),
    'devices.alarms': async (request) => ({ items: await fleet.alarms(principalOf(request), request.params.deviceId, request.query) }),
    'alarms.acknowledge': async (request) => fleet.acknowledgeAlarm(principalOf(request), request.params.alarmId, clientIp(request)),
    'customers.create': async (request) => fleet.createCustomer(request.body, adminActor(request)),
    'sites.create': async (request) => fleet.createSite(request.body, adminActor(request)),
    'devices.create': async (request) => fleet.createDevice(request.body, adminActor(request)),
    'devices.enrollmentCode': async (request) => fleet.issueEnrollmentCode(request.params.deviceId, adminActor(request)),
  };
}
