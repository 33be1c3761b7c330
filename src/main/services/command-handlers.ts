import type { HandlerSlice } from '../dispatch.ts';
import type { ConsoleService } from './console-service.ts';

/** Commands sent to a device (list, send, follow, cancel, their output) and the diagnostics its model offers. */
export function commandHandlers(service: Pick<ConsoleService, 'api'>): HandlerSlice<'commands.' | 'diagnostics.'> {
  return {
    'commands.list': async ({ deviceId }) => service.api().call('commands.listForDevice', { deviceId }, { limit: 50 }),
    'commands.send': async ({ deviceId, name, params, sessionId }) => service.api().call('commands.create', { deviceId }, { name, params, ...(sessionId ? { sessionId } : {}) }),
    'commands.get': async ({ id }) => service.api().call('commands.get', { commandId: id }),
    'commands.cancel': async ({ id }) => service.api().call('commands.cancel', { commandId: id }),
    'commands.output': async ({ id, after }) => service.api().call('commands.output', { commandId: id }, { after }),
    'diagnostics.list': async ({ deviceId }) => service.api().call('diagnostics.list', { deviceId }),
  };
}
