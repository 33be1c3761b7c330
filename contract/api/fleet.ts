import { z } from 'zod';
import { DEVICE_MODEL_IDS } from '../device-models.ts';
import {
  AlarmSeveritySchema,
  AlarmStateSchema,
  DataValueSchema,
  DeviceStatusSchema,
  EventSeveritySchema,
  SerialSchema,
} from '../common.ts';

/** Times in the console API are ISO 8601 strings. */
const IsoTime = z.string();

export const DeviceModelIdSchema = z.enum(DEVICE_MODEL_IDS);

export const REGIONS = ['us', 'uk', 'au', 'jp', 'eu'] as const;
export const RegionSchema = z.enum(REGIONS);

export const CustomerSchema = z.object({
  id: z.string(),
  name: z.string(),
  region: RegionSchema,
  country: z.string(),
});
export type Customer = z.infer<typeof CustomerSchema>;

export const SiteSchema = z.object({
  id: z.string(),
  customerId: z.string(),
  name: z.string(),
  city: z.string(),
  country: z.string(),
  timezone: z.string(),
});
export type Site = z.infer<typeof SiteSchema>;

export const DeviceSummarySchema = z.object({
  id: z.string(),
  serial: z.string(),
  name: z.string(),
  modelId: DeviceModelIdSchema,
  modelName: z.string(),
  customerId: z.string(),
  customerName: z.string(),
  siteId: z.string(),
  siteName: z.string(),
  status: DeviceStatusSchema,
  statusSince: IsoTime,
  lastContactAt: IsoTime.nullable(),
  softwareVersion: z.string().nullable(),
  agentVersion: z.string().nullable(),
  enrolled: z.boolean(),
  openAlarms: z.number().int(),
});
export type DeviceSummary = z.infer<typeof DeviceSummarySchema>;

export const DataItemValueSchema = z.object({
  key: z.string(),
  value: DataValueSchema,
  at: IsoTime,
});
export type DataItemValue = z.infer<typeof DataItemValueSchema>;

export const AlarmSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  code: z.string(),
  severity: AlarmSeveritySchema,
  message: z.string(),
  state: AlarmStateSchema,
  /** How many times the device raised it while it was open. */
  count: z.number().int(),
  firstAt: IsoTime,
  lastAt: IsoTime,
  acknowledgedBy: z.string().nullable(),
  acknowledgedAt: IsoTime.nullable(),
  closedAt: IsoTime.nullable(),
});
export type Alarm = z.infer<typeof AlarmSchema>;

export const DeviceDetailSchema = DeviceSummarySchema.extend({
  enrolledAt: IsoTime.nullable(),
  dataItems: z.array(DataItemValueSchema),
  alarms: z.array(AlarmSchema),
});
export type DeviceDetail = z.infer<typeof DeviceDetailSchema>;

const Limit = z.coerce.number().int().min(1).max(10_000).default(100);
const Offset = z.coerce.number().int().min(0).max(10_000_000).default(0);

export const DeviceListQuerySchema = z
  .object({
    q: z.string().max(128).optional(),
    status: DeviceStatusSchema.optional(),
    model: DeviceModelIdSchema.optional(),
    customerId: z.string().max(64).optional(),
    siteId: z.string().max(64).optional(),
    limit: Limit,
    offset: Offset,
  })
  .strict();
export type DeviceListQuery = z.input<typeof DeviceListQuerySchema>;

export const DeviceListResponseSchema = z.object({
  items: z.array(DeviceSummarySchema),
  total: z.number().int(),
  /** Devices per status over the whole filtered set (ignoring the status filter). */
  counts: z.object({ online: z.number().int(), offline: z.number().int(), missing: z.number().int() }),
});
export type DeviceListResponse = z.infer<typeof DeviceListResponseSchema>;

/** `GET /sites`: one customer's sites, or all in scope. */
export const SiteListQuerySchema = z.object({ customerId: z.string().max(64).optional() }).strict();

export const HistoryQuerySchema = z
  .object({
    since: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(5000).default(500),
  })
  .strict();

export const HistoryResponseSchema = z.object({
  key: z.string(),
  points: z.array(z.object({ at: IsoTime, value: DataValueSchema })),
});
export type HistoryResponse = z.infer<typeof HistoryResponseSchema>;

export const DeviceEventSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  at: IsoTime,
  type: z.string(),
  severity: EventSeveritySchema,
  message: z.string(),
  data: z.record(z.string(), z.unknown()).nullable(),
});
export type DeviceEvent = z.infer<typeof DeviceEventSchema>;

export const EventsQuerySchema = z
  .object({
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const EventsResponseSchema = z.object({ items: z.array(DeviceEventSchema) });

export const AlarmListQuerySchema = z
  .object({
    state: z.enum(['open', 'active', 'acknowledged', 'closed', 'all']).default('open'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .strict();

export const CreateCustomerRequestSchema = z
  .object({
    name: z.string().min(1).max(128),
    region: RegionSchema,
    country: z.string().min(2).max(2),
  })
  .strict();

export const CreateSiteRequestSchema = z
  .object({
    customerId: z.string().min(1).max(64),
    name: z.string().min(1).max(128),
    city: z.string().min(1).max(128),
    country: z.string().min(2).max(2),
    timezone: z.string().min(1).max(64),
  })
  .strict();

export const CreateDeviceRequestSchema = z
  .object({
    siteId: z.string().min(1).max(64),
    modelId: DeviceModelIdSchema,
    serial: SerialSchema,
    name: z.string().min(1).max(128).optional(),
  })
  .strict();

export const EnrollmentCodeResponseSchema = z.object({
  deviceId: z.string(),
  enrollmentCode: z.string(),
  expiresAt: IsoTime,
});

