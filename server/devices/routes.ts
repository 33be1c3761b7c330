import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AlarmListQuerySchema,
  AlarmSchema,
  CreateCustomerRequestSchema,
  CreateDeviceRequestSchema,
  CreateSiteRequestSchema,
  CustomerSchema,
  DataItemKeyParamSchema,
  DeviceDetailSchema,
  DeviceListQuerySchema,
  DeviceListResponseSchema,
  EnrollmentCodeResponseSchema,
  EventsQuerySchema,
  EventsResponseSchema,
  HistoryQuerySchema,
  HistoryResponseSchema,
  SiteSchema,
} from '#contract/api/fleet';
import type { AuthService } from '../auth/auth-service.ts';
import { principalOf, requireCapability } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import { errorResponses } from '../http/types.ts';
import type { FleetService } from './fleet-service.ts';
import type { FastifyRequest } from 'fastify';

const IdParams = z.object({ id: z.string().min(1).max(64) });

function adminActor(request: FastifyRequest) {
  const p = principalOf(request);
  return { actorType: 'user' as const, actorId: p.id, actorName: p.username, ip: clientIp(request) };
}

/** Customers, sites, devices, their data, events and alarms. */
export function fleetRoutes(auth: AuthService, fleet: FleetService): FastifyPluginAsyncZod {
  return async (app) => {
    const viewer = requireCapability(auth, 'view');
    const acknowledger = requireCapability(auth, 'acknowledge');
    const admin = requireCapability(auth, 'admin');

    app.get('/customers', {
      schema: { tags: ['fleet'], summary: 'Customers in your scope', response: { 200: z.object({ items: z.array(CustomerSchema) }), ...errorResponses(401) } },
      preHandler: viewer,
    }, async (request) => ({ items: await fleet.listCustomers(principalOf(request)) }));

    app.get('/sites', {
      schema: {
        tags: ['fleet'],
        summary: 'Sites in your scope',
        querystring: z.object({ customerId: z.string().max(64).optional() }).strict(),
        response: { 200: z.object({ items: z.array(SiteSchema) }), ...errorResponses(400, 401) },
      },
      preHandler: viewer,
    }, async (request) => ({ items: await fleet.listSites(principalOf(request), request.query.customerId) }));

    app.get('/devices', {
      schema: { tags: ['fleet'], summary: 'Devices in your scope, filtered and paged', querystring: DeviceListQuerySchema, response: { 200: DeviceListResponseSchema, ...errorResponses(400, 401) } },
      preHandler: viewer,
    }, async (request) => fleet.listDevices(principalOf(request), request.query));

    app.get('/devices/:id', {
      schema: { tags: ['fleet'], summary: 'One device with its latest data items and open alarms', params: IdParams, response: { 200: DeviceDetailSchema, ...errorResponses(401, 404) } },
      preHandler: viewer,
    }, async (request) => fleet.getDevice(principalOf(request), request.params.id));

    app.get('/devices/:id/data-items/:key/history', {
      schema: { tags: ['fleet'], summary: 'Recent values of one data item', params: DataItemKeyParamSchema, querystring: HistoryQuerySchema, response: { 200: HistoryResponseSchema, ...errorResponses(400, 401, 404) } },
      preHandler: viewer,
    }, async (request) => fleet.history(principalOf(request), request.params.id, request.params.key, request.query));

    app.get('/devices/:id/events', {
      schema: { tags: ['fleet'], summary: 'The device timeline, newest first', params: IdParams, querystring: EventsQuerySchema, response: { 200: EventsResponseSchema, ...errorResponses(400, 401, 404) } },
      preHandler: viewer,
    }, async (request) => ({ items: await fleet.events(principalOf(request), request.params.id, request.query) }));

    app.get('/devices/:id/alarms', {
      schema: { tags: ['fleet'], summary: 'Alarms of a device', params: IdParams, querystring: AlarmListQuerySchema, response: { 200: z.object({ items: z.array(AlarmSchema) }), ...errorResponses(400, 401, 404) } },
      preHandler: viewer,
    }, async (request) => ({ items: await fleet.alarms(principalOf(request), request.params.id, request.query) }));

    app.post('/alarms/:id/acknowledge', {
      schema: { tags: ['fleet'], summary: 'Acknowledge an active alarm', params: IdParams, response: { 200: AlarmSchema, ...errorResponses(401, 403, 404, 409) } },
      preHandler: acknowledger,
    }, async (request) => fleet.acknowledgeAlarm(principalOf(request), request.params.id, clientIp(request)));

    app.post('/customers', {
      schema: { tags: ['admin'], summary: 'Create a customer', body: CreateCustomerRequestSchema, response: { 201: CustomerSchema, ...errorResponses(400, 401, 403) } },
      preHandler: admin,
    }, async (request, reply) => reply.status(201).send(await fleet.createCustomer(request.body, adminActor(request))));

    app.post('/sites', {
      schema: { tags: ['admin'], summary: 'Create a site of a customer', body: CreateSiteRequestSchema, response: { 201: SiteSchema, ...errorResponses(400, 401, 403, 404) } },
      preHandler: admin,
    }, async (request, reply) => reply.status(201).send(await fleet.createSite(request.body, adminActor(request))));

    app.post('/devices', {
      schema: { tags: ['admin'], summary: 'Register a device; returns its one-time enrollment code', body: CreateDeviceRequestSchema, response: { 201: EnrollmentCodeResponseSchema, ...errorResponses(400, 401, 403, 404, 409) } },
      preHandler: admin,
    }, async (request, reply) => reply.status(201).send(await fleet.createDevice(request.body, adminActor(request))));

    app.post('/devices/:id/enrollment-code', {
      schema: { tags: ['admin'], summary: 'A new one-time enrollment code (re-enrollment replaces the device credentials)', params: IdParams, response: { 201: EnrollmentCodeResponseSchema, ...errorResponses(401, 403, 404) } },
      preHandler: admin,
    }, async (request, reply) => reply.status(201).send(await fleet.issueEnrollmentCode(request.params.id, adminActor(request))));
  };
}
