import type { HandlerSlice } from '../dispatch.ts';
import type { ConsoleService } from './console-service.ts';

/** The fleet the signed-in user may see: customers, devices, their history and events, and acknowledging alarms. */
export function fleetHandlers(service: Pick<ConsoleService, 'api'>): HandlerSlice<'fleet.' | 'alarms.'> {
  return {
    'fleet.customers': async () => service.api().call('customers.list', {}),
    'fleet.devices': async (input) => service.api().call('devices.list', {}, input),
    'fleet.device': async ({ id }) => service.api().call('devices.get', { deviceId: id }),
    'fleet.history': async ({ id, key, limit }) => service.api().call('devices.history', { deviceId: id, key }, { limit }),
    'fleet.events': async ({ id, limit }) => service.api().call('devices.events', { deviceId: id }, { limit }),
    'alarms.acknowledge': async ({ id }) => service.api().call('alarms.acknowledge', { alarmId: id }),
  };
}
