import type { CommandView } from '#contract/api/commands';
import type { SessionView } from '#contract/api/sessions';
import type { Alarm, DeviceDetail, DeviceSummary } from '#contract/api/fleet';

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

/** A service session as the console sees it: active, controlled by u1, with defaults. */
export function sessionView(overrides: Partial<SessionView> & { id: string }): SessionView {
  return {
    deviceId: 'd1',
    state: 'active',
    endCause: null,
    scopes: ['diagnose'],
    reason: 'INC-1 pressure faults',
    durationMinutes: 30,
    engineer: { id: 'u1', username: 'sam', displayName: 'Sam Engineer' },
    observers: [],
    createdAt: '2025-01-01T10:00:00.000Z',
    consentDeadline: null,
    decidedBy: 'Pat Biomed',
    decidedAt: '2025-01-01T10:00:20.000Z',
    activatedAt: '2025-01-01T10:00:20.000Z',
    expiresAt: '2025-01-01T10:30:20.000Z',
    endedAt: null,
    pendingExtension: null,
    timeline: [
      { at: '2025-01-01T10:00:00.000Z', type: 'requested', detail: null },
      { at: '2025-01-01T10:00:20.000Z', type: 'activated', detail: null },
    ],
    ...overrides,
  };
}

/** The same session waiting for the operator's answer. */
export function awaitingView(overrides: Partial<SessionView> & { id: string }): SessionView {
  return sessionView({
    state: 'awaiting-consent',
    consentDeadline: '2025-01-01T10:02:00.000Z',
    decidedBy: null,
    decidedAt: null,
    activatedAt: null,
    expiresAt: null,
    timeline: [{ at: '2025-01-01T10:00:00.000Z', type: 'requested', detail: null }],
    ...overrides,
  });
}

/** A command as the console sees it: a ping on d1, queued, with defaults. */
export function commandView(overrides: Partial<CommandView> & { id: string }): CommandView {
  return {
    deviceId: 'd1',
    name: 'ping',
    params: {},
    state: 'queued',
    createdBy: 'sam',
    createdAt: '2025-01-01T10:00:00.000Z',
    updatedAt: '2025-01-01T10:00:00.000Z',
    expiresAt: '2025-01-01T10:05:00.000Z',
    attempts: 0,
    sessionId: null,
    progress: null,
    result: null,
    error: null,
    history: [{ state: 'queued', at: '2025-01-01T10:00:00.000Z', detail: 'by sam' }],
    ...overrides,
  };
}
