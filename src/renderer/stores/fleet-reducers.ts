import type { DeviceDetail, DeviceSummary } from '#contract/api/fleet';
import type { LiveEvent } from '#contract/api/live';

/** The loaded fleet: devices by id, and their display order (by serial). */
export interface FleetData {
  byId: Readonly<Record<string, DeviceSummary>>;
  ids: readonly string[];
}

/** The outcome of applying live events: the new data, and whether any status changed (filters and counts depend on it). */
export interface FleetUpdate {
  data: FleetData;
  statusChanged: boolean;
}

/** Indexes a freshly loaded fleet, sorted by serial. */
export function loadFleet(devices: readonly DeviceSummary[]): FleetData {
  const byId: Record<string, DeviceSummary> = {};
  for (const device of devices) byId[device.id] = device;
  const ids = Object.keys(byId).sort((a, b) => compareText(byId[a]!.serial, byId[b]!.serial));
  return { byId, ids };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The later of two ISO times (either may be missing). */
function later(a: string | null, b: string | null): string | null {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/**
 * One device after a live event, or the same object when the event changes nothing the
 * fleet shows. Events may arrive late (buffered during a reload): a status older than the
 * one shown is ignored, and the last contact never moves backwards.
 */
function applyToDevice(device: DeviceSummary, event: LiveEvent): DeviceSummary {
  switch (event.type) {
    case 'device.status': {
      if (Date.parse(event.at) < Date.parse(device.statusSince)) return device;
      const lastContactAt = later(device.lastContactAt, event.lastContactAt);
      if (device.status === event.status && lastContactAt === device.lastContactAt) return device;
      return { ...device, status: event.status, statusSince: device.status === event.status ? device.statusSince : event.at, lastContactAt };
    }
    case 'device.data': {
      let newest = device.lastContactAt;
      for (const item of event.items) newest = later(newest, item.at);
      return newest === device.lastContactAt ? device : { ...device, lastContactAt: newest };
    }
    default:
      return device;
  }
}

/**
 * Applies a batch of live events in one copy of the index (thousands of devices report
 * every few seconds; one copy per event would not keep up). Only changed devices get new
 * objects, so only their rows re-render. Unknown devices are ignored.
 */
export function applyLiveEvents(data: FleetData, events: readonly LiveEvent[]): FleetUpdate {
  let byId: Record<string, DeviceSummary> | undefined;
  let statusChanged = false;
  for (const event of events) {
    if (event.type !== 'device.status' && event.type !== 'device.data') continue;
    const current = (byId ?? data.byId)[event.deviceId];
    if (!current) continue;
    const next = applyToDevice(current, event);
    if (next === current) continue;
    byId ??= { ...data.byId };
    byId[event.deviceId] = next;
    if (next.status !== current.status) statusChanged = true;
  }
  return { data: byId ? { byId, ids: data.ids } : data, statusChanged };
}

/**
 * Takes a re-fetched device (after an alarm) into the fleet: its open alarm count, and
 * its status and last contact unless the fleet already shows newer ones.
 */
export function applyDeviceDetail(data: FleetData, detail: DeviceDetail): FleetUpdate {
  const current = data.byId[detail.id];
  if (!current) return { data, statusChanged: false };
  const newerStatus = Date.parse(detail.statusSince) >= Date.parse(current.statusSince);
  const next: DeviceSummary = {
    ...current,
    openAlarms: detail.openAlarms,
    status: newerStatus ? detail.status : current.status,
    statusSince: newerStatus ? detail.statusSince : current.statusSince,
    lastContactAt: later(current.lastContactAt, detail.lastContactAt),
    softwareVersion: detail.softwareVersion,
    agentVersion: detail.agentVersion,
  };
  const unchanged = (Object.keys(next) as (keyof DeviceSummary)[]).every((k) => next[k] === current[k]);
  if (unchanged) return { data, statusChanged: false };
  return { data: { byId: { ...data.byId, [detail.id]: next }, ids: data.ids }, statusChanged: next.status !== current.status };
}
