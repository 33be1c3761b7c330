import { SessionListResponseSchema, SessionViewSchema } from '#contract/api/sessions';
import type { HandlerSlice } from '../dispatch.ts';
import { enc } from './api-path.ts';
import type { ConsoleService } from './console-service.ts';

/** Service sessions on a device: requesting one (the customer consents), joining, extending, leaving and ending it. */
export function sessionHandlers(service: Pick<ConsoleService, 'api'>): HandlerSlice<'sessions.'> {
  return {
    'sessions.request': async ({ deviceId, ...body }) => service.api().call('POST', `/devices/${enc(deviceId)}/sessions`, SessionViewSchema, body),
    'sessions.list': async ({ deviceId }) => service.api().call('GET', `/devices/${enc(deviceId)}/sessions`, SessionListResponseSchema),
    'sessions.get': async ({ id }) => service.api().call('GET', `/sessions/${enc(id)}`, SessionViewSchema),
    'sessions.extend': async ({ id, durationMinutes }) => service.api().call('POST', `/sessions/${enc(id)}/extend`, SessionViewSchema, { durationMinutes }),
    'sessions.end': async ({ id }) => service.api().call('POST', `/sessions/${enc(id)}/end`, SessionViewSchema),
    'sessions.join': async ({ id }) => service.api().call('POST', `/sessions/${enc(id)}/join`, SessionViewSchema),
    'sessions.leave': async ({ id }) => service.api().call('POST', `/sessions/${enc(id)}/leave`, SessionViewSchema),
  };
}
