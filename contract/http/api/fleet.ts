import {
  AlarmListQuerySchema,
  AlarmSchema,
  CreateCustomerRequestSchema,
  CreateDeviceRequestSchema,
  CreateSiteRequestSchema,
  CustomerSchema,
  DeviceDetailSchema,
  DeviceListQuerySchema,
  DeviceListResponseSchema,
  EnrollmentCodeResponseSchema,
  EventsQuerySchema,
  EventsResponseSchema,
  HistoryQuerySchema,
  HistoryResponseSchema,
  SiteListQuerySchema,
  SiteSchema,
} from '../../api/fleet.ts';
import { jsonRoute, userWith } from '../route.ts';
import { AlarmParams, DataItemParams, DeviceParams, itemsOf } from './params.ts';

/** Customers, sites, devices, their data, events and alarms. */
export const FLEET_ROUTES = {
  'customers.list': jsonRoute({
    method: 'GET', path: '/customers', tags: ['fleet'], summary: 'Customers in your scope',
    caller: userWith('view'), status: 200, response: itemsOf(CustomerSchema), errors: [401],
  }),
  'sites.list': jsonRoute({
    method: 'GET', path: '/sites', tags: ['fleet'], summary: 'Sites in your scope',
    caller: userWith('view'), query: SiteListQuerySchema, status: 200, response: itemsOf(SiteSchema), errors: [400, 401],
  }),
  'devices.list': jsonRoute({
    method: 'GET', path: '/devices', tags: ['fleet'], summary: 'Devices in your scope, filtered and paged',
    caller: userWith('view'), query: DeviceListQuerySchema, status: 200, response: DeviceListResponseSchema, errors: [400, 401],
  }),
  'devices.get': jsonRoute({
    method: 'GET', path: '/devices/:deviceId', tags: ['fleet'], summary: 'One device with its latest data items and open alarms',
    caller: userWith('view'), params: DeviceParams, status: 200, response: DeviceDetailSchema, errors: [401, 404],
  }),
  'devices.history': jsonRoute({
    method: 'GET', path: '/devices/:deviceId/data-items/:key/history', tags: ['fleet'], summary: 'Recent values of one data item',
    caller: userWith('view'), params: DataItemParams, query: HistoryQuerySchema, status: 200, response: HistoryResponseSchema, errors: [400, 401, 404],
  }),
  'devices.events': jsonRoute({
    method: 'GET', path: '/devices/:deviceId/events', tags: ['fleet'], summary: 'The device timeline, newest first',
    caller: userWith('view'), params: DeviceParams, query: EventsQuerySchema, status: 200, response: EventsResponseSchema, errors: [400, 401, 404],
  }),
  'devices.alarms': jsonRoute({
    method: 'GET', path: '/devices/:deviceId/alarms', tags: ['fleet'], summary: 'Alarms of a device',
    caller: userWith('view'), params: DeviceParams, query: AlarmListQuerySchema, status: 200, response: itemsOf(AlarmSchema), errors: [400, 401, 404],
  }),
  'alarms.acknowledge': jsonRoute({
    method: 'POST', path: '/alarms/:alarmId/acknowledge', tags: ['fleet'], summary: 'Acknowledge an active alarm',
    caller: userWith('acknowledge'), params: AlarmParams, status: 200, response: AlarmSchema, errors: [401, 403, 404, 409],
  }),
  'customers.create': jsonRoute({
    method: 'POST', path: '/customers', tags: ['admin'], summary: 'Create a customer',
    caller: userWith('admin'), body: CreateCustomerRequestSchema, status: 201, response: CustomerSchema, errors: [400, 401, 403],
  }),
  'sites.create': jsonRoute({
    method: 'POST', path: '/sites', tags: ['admin'], summary: 'Create a site of a customer',
    caller: userWith('admin'), body: CreateSiteRequestSchema, status: 201, response: SiteSchema, errors: [400, 401, 403, 404],
  }),
  'devices.create': jsonRoute({
    method: 'POST', path: '/devices', tags: ['admin'], summary: 'Register a device; returns its one-time enrollment code',
    caller: userWith('admin'), body: CreateDeviceRequestSchema, status: 201, response: EnrollmentCodeResponseSchema, errors: [400, 401, 403, 404, 409],
  }),
  'devices.enrollmentCode': jsonRoute({
    method: 'POST', path: '/devices/:deviceId/enrollment-code', tags: ['admin'], summary: 'A new one-time enrollment code (re-enrollment replaces the device credentials)',
    caller: userWith('admin'), params: DeviceParams, status: 201, response: EnrollmentCodeResponseSchema, errors: [401, 403, 404],
  }),
} as const;
