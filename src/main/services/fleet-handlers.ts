import { z } from 'zod';
import {
  AlarmSchema,
  CustomerSchema,
  DeviceDetailSchema,
  DeviceListResponseSchema,
  EventsResponseSchema,
  HistoryResponseSchema,
} from '#contract/api/fleet';
import type { HandlerSlice } from '../dispatch.ts';
import { enc, q } from './api-path.ts';
import type { ConsoleService } from './console-service.ts';

/** The fleet the signed-in user may see: customers, devices, their history and events, and acknowledging alarms. */
export function fleetHandlers(service: Pick<ConsoleService, 'api'>): HandlerSlice<'fleet.' | 'alarms.'> {
  return {
    'fleet.customers': async () => service.api().call('GET', '/customers', z.object({ items: z.array(CustomerSchema) })),
    'fleet.devices': async (input) => service.api().call('GET', `/devices${q(input)}`, DeviceListResponseSchema),
    'fleet.device': async ({ id }) => service.api().call('GET', `/devices/${enc(id)}`, DeviceDetailSchema),
    'fleet.history': async ({ id, key, limit }) => service.api().call('GET', `/devices/${enc(id)}/data-items/${enc(key)}/history${q({ limit })}`, HistoryResponseSchema),
    'fleet.events': async ({ id, limit }) => service.api().call('GET', `/devices/${enc(id)}/events${q({ limit })}`, EventsResponseSchema),
    'alarms.acknowledge': async ({ id }) => service.api().call('POST', `/alarms/${enc(id)}/acknowledge`, AlarmSchema),
  };
}
