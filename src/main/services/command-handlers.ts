import { z } from 'zod';
import { CommandAcceptedSchema, CommandViewSchema } from '#contract/api/commands';
import { CommandOutputResponseSchema, DiagnosticListResponseSchema } from '#contract/api/sessions';
import type { HandlerSlice } from '../dispatch.ts';
import { enc, q } from './api-path.ts';
import type { ConsoleService } from './console-service.ts';

/** Commands sent to a device (list, send, follow, cancel, their output) and the diagnostics its model offers. */
export function commandHandlers(service: Pick<ConsoleService, 'api'>): HandlerSlice<'commands.' | 'diagnostics.'> {
  return {
    'commands.list': async ({ deviceId }) => service.api().call('GET', `/devices/${enc(deviceId)}/commands${q({ limit: 50 })}`, z.object({ items: z.array(CommandViewSchema) })),
    'commands.send': async ({ deviceId, name, params, sessionId }) =>
      service.api().call('POST', `/devices/${enc(deviceId)}/commands`, CommandAcceptedSchema, { name, params, ...(sessionId ? { sessionId } : {}) }),
    'commands.get': async ({ id }) => service.api().call('GET', `/commands/${enc(id)}`, CommandViewSchema),
    'commands.cancel': async ({ id }) => service.api().call('POST', `/commands/${enc(id)}/cancel`, CommandViewSchema),
    'commands.output': async ({ id, after }) => service.api().call('GET', `/commands/${enc(id)}/output${q({ after })}`, CommandOutputResponseSchema),
    'diagnostics.list': async ({ deviceId }) => service.api().call('GET', `/devices/${enc(deviceId)}/diagnostics`, DiagnosticListResponseSchema),
  };
}
