import { DEVICE_MODELS, isDeviceModelId } from '#contract/device-models';
import type { Alarm, DataItemValue, DeviceEvent, DeviceSummary } from '#contract/api/fleet';
import type { DataValue } from '#contract/common';
import type { AlarmRow, DeviceEventRow, DeviceRow } from '../store/schema.ts';

export const iso = (ms: number | bigint | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString());
export const isoOf = (ms: number | bigint): string => new Date(Number(ms)).toISOString();

/** A device row joined with its customer and site names and its open-alarm count. */
export type DeviceSummaryRow = DeviceRow & { customer_name: string; site_name: string; open_alarms: number | bigint };

export function toDeviceSummary(row: DeviceSummaryRow): DeviceSummary {
  const modelId = isDeviceModelId(row.model_id) ? row.model_id : 'stellant-flex';
  return {
    id: row.id,
    serial: row.serial,
    name: row.name,
    modelId,
    modelName: DEVICE_MODELS[modelId].name,
    customerId: row.customer_id,
    customerName: row.customer_name,
    siteId: row.site_id,
    siteName: row.site_name,
    status: row.status,
    statusSince: isoOf(row.status_changed_at),
    lastContactAt: iso(row.last_contact_at),
    softwareVersion: row.software_version,
    agentVersion: row.agent_version,
    enrolled: row.enrolled_at !== null,
    openAlarms: Number(row.open_alarms),
  };
}

export function toAlarm(row: AlarmRow): Alarm {
  return {
    id: row.id,
    deviceId: row.device_id,
    code: row.code,
    severity: row.severity,
    message: row.message,
    state: row.state,
    count: Number(row.count),
    firstAt: isoOf(row.first_at),
    lastAt: isoOf(row.last_at),
    acknowledgedBy: row.acknowledged_by,
    acknowledgedAt: iso(row.acknowledged_at),
    closedAt: iso(row.closed_at),
  };
}

export function toDeviceEvent(row: DeviceEventRow): DeviceEvent {
  return {
    id: String(row.id),
    deviceId: row.device_id,
    at: isoOf(row.at),
    type: row.type,
    severity: row.severity,
    message: row.message,
    data: row.data ? (JSON.parse(row.data) as Record<string, unknown>) : null,
  };
}

export function toDataItemValue(row: { key: string; value: string; at: number | bigint }): DataItemValue {
  return { key: row.key, value: JSON.parse(row.value) as DataValue, at: isoOf(row.at) };
}
