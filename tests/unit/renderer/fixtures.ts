import type { Alarm, DeviceDetail, DeviceSummary } from '../../../src/shared/api/fleet.ts';

/** A device summary with sensible defaults; tests override what they are about. */
export function device(overrides: Partial<DeviceSummary> & { id: string }): DeviceSummary {
  return {
    serial: `SFX-US${overrides.id.padStart(5, '0')}`,
    name: `Injector ${overrides.id}`,
    modelId: 'stellant-flex',
    modelName: 'MEDRAD Stellant FLEX CT Injection System',
    customerId: 'c1',
    customerName: 'Northwind Health',
    siteId: 's1',
    siteName: 'Radiology East',
    status: 'online',
    statusSince: '2025-01-01T10:00:00.000Z',
    lastContactAt: '2025-01-01T10:00:00.000Z',
    softwareVersion: '4.2.1',
    agentVersion: '0.1.0',
    enrolled: true,
    openAlarms: 0,
    ...overrides,
  };
}

/** A device detail (what `fleet.device` answers) around a summary. */
export function detailOf(summary: DeviceSummary, overrides: Partial<DeviceDetail> = {}): DeviceDetail {
  return { ...summary, enrolledAt: '2024-12-01T00:00:00.000Z', dataItems: [], alarms: [], ...overrides };
}

/** An open alarm with defaults. */
export function alarm(overrides: Partial<Alarm> & { id: string }): Alarm {
  return {
    deviceId: 'd1',
    code: 'PRESSURE_LIMIT',
    severity: 'major',
    message: 'Injection aborted at the pressure limit',
    state: 'active',
    count: 1,
    firstAt: '2025-01-01T10:00:00.000Z',
    lastAt: '2025-01-01T10:00:00.000Z',
    acknowledgedBy: null,
    acknowledgedAt: null,
    closedAt: null,
    ...overrides,
  };
}
