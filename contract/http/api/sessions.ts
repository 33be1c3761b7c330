import {
  ConsentPolicyViewSchema,
  CreateSessionRequestSchema,
  DiagnosticListResponseSchema,
  ExtendSessionRequestSchema,
  SessionListResponseSchema,
  SessionViewSchema,
  UpdateConsentPolicySchema,
} from '../../api/sessions.ts';
import { jsonRoute, userWith } from '../route.ts';
import { CustomerParams, DeviceParams, SessionParams } from './params.ts';

/** Service sessions, the diagnostics a device offers, and consent policies. */
export const SESSION_ROUTES = {
  'sessions.request': jsonRoute({
    method: 'POST', path: '/devices/:deviceId/sessions', tags: ['sessions'], summary: 'Request a service session (scopes, reason, duration); consent decides',
    caller: userWith('view'), params: DeviceParams, body: CreateSessionRequestSchema, status: 201, response: SessionViewSchema, errors: [400, 401, 403, 404, 409],
  }),
  'sessions.listForDevice': jsonRoute({
    method: 'GET', path: '/devices/:deviceId/sessions', tags: ['sessions'], summary: 'Session history of a device, newest first',
    caller: userWith('view'), params: DeviceParams, status: 200, response: SessionListResponseSchema, errors: [401, 404],
  }),
  'sessions.get': jsonRoute({
    method: 'GET', path: '/sessions/:sessionId', tags: ['sessions'], summary: 'A session with its participants and timeline',
    caller: userWith('view'), params: SessionParams, status: 200, response: SessionViewSchema, errors: [401, 404],
  }),
  'sessions.extend': jsonRoute({
    method: 'POST', path: '/sessions/:sessionId/extend', tags: ['sessions'], summary: 'Ask for more time (a new consent where the policy asks)',
    caller: userWith('view'), params: SessionParams, body: ExtendSessionRequestSchema, status: 200, response: SessionViewSchema, errors: [400, 401, 403, 404, 409],
  }),
  'sessions.end': jsonRoute({
    method: 'POST', path: '/sessions/:sessionId/end', tags: ['sessions'], summary: 'End the session (controller) or terminate it (administrator)',
    caller: userWith('view'), params: SessionParams, status: 200, response: SessionViewSchema, errors: [401, 403, 404, 409],
  }),
  'sessions.join': jsonRoute({
    method: 'POST', path: '/sessions/:sessionId/join', tags: ['sessions'], summary: 'Join an active session as a read-only observer',
    caller: userWith('view'), params: SessionParams, status: 200, response: SessionViewSchema, errors: [401, 403, 404, 409],
  }),
  'sessions.leave': jsonRoute({
    method: 'POST', path: '/sessions/:sessionId/leave', tags: ['sessions'], summary: 'Stop observing a session',
    caller: userWith('view'), params: SessionParams, status: 200, response: SessionViewSchema, errors: [401, 404, 409],
  }),
  'diagnostics.list': jsonRoute({
    method: 'GET', path: '/devices/:deviceId/diagnostics', tags: ['sessions'], summary: 'The diagnostic actions of the device model, with their parameter schemas',
    caller: userWith('view'), params: DeviceParams, status: 200, response: DiagnosticListResponseSchema, errors: [401, 404],
  }),
  'consentPolicy.getCustomer': jsonRoute({
    method: 'GET', path: '/customers/:customerId/consent-policy', tags: ['sessions'], summary: "A customer's consent policy per scope",
    caller: userWith('view'), params: CustomerParams, status: 200, response: ConsentPolicyViewSchema, errors: [401, 404],
  }),
  'consentPolicy.setCustomer': jsonRoute({
    method: 'PUT', path: '/customers/:customerId/consent-policy', tags: ['admin'], summary: "Set a customer's consent policy",
    caller: userWith('admin'), params: CustomerParams, body: UpdateConsentPolicySchema, status: 200, response: ConsentPolicyViewSchema, errors: [400, 401, 403, 404],
  }),
  'consentPolicy.getDevice': jsonRoute({
    method: 'GET', path: '/devices/:deviceId/consent-policy', tags: ['sessions'], summary: 'The consent policy in force on a device',
    caller: userWith('view'), params: DeviceParams, status: 200, response: ConsentPolicyViewSchema, errors: [401, 404],
  }),
  'consentPolicy.setDevice': jsonRoute({
    method: 'PUT', path: '/devices/:deviceId/consent-policy', tags: ['admin'], summary: "Override a device's consent policy (null: follow the customer)",
    caller: userWith('admin'), params: DeviceParams, body: UpdateConsentPolicySchema, status: 200, response: ConsentPolicyViewSchema, errors: [400, 401, 403, 404],
  }),
} as const;
