import type { HandlerSlice } from '../dispatch.ts';
import type { ConsoleService } from './console-service.ts';

/** Service sessions on a device: requesting one (the customer consents), joining, extending, leaving and ending it. */
export function sessionHandlers(service: Pick<ConsoleService, 'api'>): HandlerSlice<'sessions.'> {
  return {
    'sessions.request': async ({ deviceId, ...body }) => service.api().call('sessions.request', { deviceId }, body),
    'sessions.list': async ({ deviceId }) => service.api().call('sessions.listForDevice', { deviceId }),
    'sessions.get': async ({ id }) => service.api().call('sessions.get', { sessionId: id }),
    'sessions.extend': async ({ id, durationMinutes }) => service.api().call('sessions.extend', { sessionId: id }, { durationMinutes }),
    'sessions.end': async ({ id }) => service.api().call('sessions.end', { sessionId: id }),
    'sessions.join': async ({ id }) => service.api().call('sessions.join', { sessionId: id }),
    'sessions.leave': async ({ id }) => service.api().call('sessions.leave', { sessionId: id }),
  };
}
