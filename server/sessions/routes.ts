import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ConsentPolicyViewSchema,
  CreateSessionRequestSchema,
  DiagnosticListResponseSchema,
  ExtendSessionRequestSchema,
  SessionListResponseSchema,
  SessionViewSchema,
  UpdateConsentPolicySchema,
} from '#contract/api/sessions';
import { isDeviceModelId } from '#contract/device-models';
import { commandSpec, type CommandName } from '#contract/protocol/commands';
import { DIAGNOSTIC_CATALOG, diagnosticsFor } from '#contract/protocol/diagnostics';
import { TetherError } from '#contract/errors';
import type { AuthService } from '../auth/auth-service.ts';
import type { FleetService } from '../devices/fleet-service.ts';
import { principalOf, requireCapability } from '../http/auth-hook.ts';
import { clientIp } from '../http/errors.ts';
import { errorResponses } from '../http/types.ts';
import type { SessionService } from './session-service.ts';

const IdParams = z.object({ id: z.string().min(1).max(64) });

/** Service sessions, the diagnostics a device offers, and consent policies. */
export function sessionRoutes(auth: AuthService, sessions: SessionService, fleet: FleetService): FastifyPluginAsyncZod {
  return async (app) => {
    const viewer = requireCapability(auth, 'view');
    const admin = requireCapability(auth, 'admin');

    app.post('/devices/:id/sessions', {
      schema: {
        tags: ['sessions'],
        summary: 'Request a service session (scopes, reason, duration); consent decides',
        params: IdParams,
        body: CreateSessionRequestSchema,
        response: { 201: SessionViewSchema, ...errorResponses(400, 401, 403, 404, 409) },
      },
      preHandler: viewer,
    }, async (request, reply) => reply.status(201).send(await sessions.request(principalOf(request), request.params.id, request.body, clientIp(request))));

    app.get('/devices/:id/sessions', {
      schema: { tags: ['sessions'], summary: 'Session history of a device, newest first', params: IdParams, response: { 200: SessionListResponseSchema, ...errorResponses(401, 404) } },
      preHandler: viewer,
    }, async (request) => ({ items: await sessions.listForDevice(principalOf(request), request.params.id) }));

    app.get('/sessions/:id', {
      schema: { tags: ['sessions'], summary: 'A session with its participants and timeline', params: IdParams, response: { 200: SessionViewSchema, ...errorResponses(401, 404) } },
      preHandler: viewer,
    }, async (request) => sessions.get(principalOf(request), request.params.id));

    app.post('/sessions/:id/extend', {
      schema: { tags: ['sessions'], summary: 'Ask for more time (a new consent where the policy asks)', params: IdParams, body: ExtendSessionRequestSchema, response: { 200: SessionViewSchema, ...errorResponses(400, 401, 403, 404, 409) } },
      preHandler: viewer,
    }, async (request) => sessions.extend(principalOf(request), request.params.id, request.body.durationMinutes, clientIp(request)));

    app.post('/sessions/:id/end', {
      schema: { tags: ['sessions'], summary: 'End the session (controller) or terminate it (administrator)', params: IdParams, response: { 200: SessionViewSchema, ...errorResponses(401, 403, 404, 409) } },
      preHandler: viewer,
    }, async (request) => sessions.end(principalOf(request), request.params.id, clientIp(request)));

    app.post('/sessions/:id/join', {
      schema: { tags: ['sessions'], summary: 'Join an active session as a read-only observer', params: IdParams, response: { 200: SessionViewSchema, ...errorResponses(401, 403, 404, 409) } },
      preHandler: viewer,
    }, async (request) => sessions.join(principalOf(request), request.params.id, clientIp(request)));

    app.post('/sessions/:id/leave', {
      schema: { tags: ['sessions'], summary: 'Stop observing a session', params: IdParams, response: { 200: SessionViewSchema, ...errorResponses(401, 404, 409) } },
      preHandler: viewer,
    }, async (request) => sessions.leave(principalOf(request), request.params.id, clientIp(request)));

    app.get('/devices/:id/diagnostics', {
      schema: { tags: ['sessions'], summary: 'The diagnostic actions of the device model, with their parameter schemas', params: IdParams, response: { 200: DiagnosticListResponseSchema, ...errorResponses(401, 404) } },
      preHandler: viewer,
    }, async (request) => {
      const device = await fleet.requireDevice(principalOf(request), request.params.id);
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
    });

    app.get('/customers/:id/consent-policy', {
      schema: { tags: ['sessions'], summary: "A customer's consent policy per scope", params: IdParams, response: { 200: ConsentPolicyViewSchema, ...errorResponses(401, 404) } },
      preHandler: viewer,
    }, async (request) => {
      const customers = await fleet.listCustomers(principalOf(request));
      if (!customers.some((c) => c.id === request.params.id)) throw customerNotFound(request.params.id);
      return sessions.policies.forCustomer(request.params.id);
    });

    app.put('/customers/:id/consent-policy', {
      schema: { tags: ['admin'], summary: "Set a customer's consent policy", params: IdParams, body: UpdateConsentPolicySchema, response: { 200: ConsentPolicyViewSchema, ...errorResponses(400, 401, 403, 404) } },
      preHandler: admin,
    }, async (request) => {
      const p = principalOf(request);
      const customers = await fleet.listCustomers(p);
      if (!customers.some((c) => c.id === request.params.id)) throw customerNotFound(request.params.id);
      await sessions.policies.set({ type: 'customer', id: request.params.id }, request.body.policies, { actorType: 'user', actorId: p.id, actorName: p.username, ip: clientIp(request) });
      return sessions.policies.forCustomer(request.params.id);
    });

    app.get('/devices/:id/consent-policy', {
      schema: { tags: ['sessions'], summary: 'The consent policy in force on a device', params: IdParams, response: { 200: ConsentPolicyViewSchema, ...errorResponses(401, 404) } },
      preHandler: viewer,
    }, async (request) => {
      const device = await fleet.requireDevice(principalOf(request), request.params.id);
      const own = await sessions.policies.forSubject({ type: 'device', id: device.id });
      return { policies: await sessions.policies.effective(device.id, device.customer_id), inherited: Object.keys(own).length === 0 };
    });

    app.put('/devices/:id/consent-policy', {
      schema: { tags: ['admin'], summary: "Override a device's consent policy (null: follow the customer)", params: IdParams, body: UpdateConsentPolicySchema, response: { 200: ConsentPolicyViewSchema, ...errorResponses(400, 401, 403, 404) } },
      preHandler: admin,
    }, async (request) => {
      const p = principalOf(request);
      const device = await fleet.requireDevice(p, request.params.id);
      await sessions.policies.set({ type: 'device', id: device.id }, request.body.policies, { actorType: 'user', actorId: p.id, actorName: p.username, ip: clientIp(request) });
      return { policies: await sessions.policies.effective(device.id, device.customer_id), inherited: request.body.policies === null };
    });
  };
}

function customerNotFound(id: string): TetherError {
  return new TetherError('NOT_FOUND', `no customer ${id}`);
}
