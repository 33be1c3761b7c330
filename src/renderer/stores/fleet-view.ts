import type { DeviceSummary } from '#contract/api/fleet';
import type { DeviceStatus } from '#contract/common';
import type { DeviceModelId } from '#contract/device-models';

/** The fleet screen's filters; all client-side, so typing filters 10,000 rows instantly. */
export interface FleetFilter {
  /** Matches serial, name, site and customer, case-insensitive. */
  search: string;
  status: DeviceStatus | null;
  model: DeviceModelId | null;
  customerId: string | null;
}

/** No filter: the whole fleet. */
export const EMPTY_FILTER: FleetFilter = { search: '', status: null, model: null, customerId: null };

/** Devices per status. */
export type StatusCounts = Record<DeviceStatus, number>;

/** What the grid shows: the ids that pass the filter, and counts per status beside it. */
export interface FleetView {
  visibleIds: string[];
  /** Per status over the devices that pass every filter except the status filter. */
  counts: StatusCounts;
}

// Search fields never change with live events, so the lower-cased haystack of a device
// object is computed once; a replaced object (live update) simply gets a new entry.
const haystacks = new WeakMap<DeviceSummary, string>();

function haystackOf(device: DeviceSummary): string {
  let text = haystacks.get(device);
  if (text === undefined) {
    text = `${device.serial}\n${device.name}\n${device.siteName}\n${device.customerName}`.toLowerCase();
    haystacks.set(device, text);
  }
  return text;
}

/** Whether a device passes the filter, leaving out its status filter. */
function passesAllButStatus(device: DeviceSummary, filter: FleetFilter, needle: string): boolean {
  if (filter.model && device.modelId !== filter.model) return false;
  if (filter.customerId && device.customerId !== filter.customerId) return false;
  return needle === '' || haystackOf(device).includes(needle);
}

/** Applies the filter to the fleet in its display order, counting statuses on the way. */
export function deriveFleetView(ids: readonly string[], byId: Readonly<Record<string, DeviceSummary>>, filter: FleetFilter): FleetView {
  const needle = filter.search.trim().toLowerCase();
  const counts: StatusCounts = { online: 0, offline: 0, missing: 0 };
  const visibleIds: string[] = [];
  for (const id of ids) {
    const device = byId[id];
    if (!device || !passesAllButStatus(device, filter, needle)) continue;
    counts[device.status] += 1;
    if (!filter.status || device.status === filter.status) visibleIds.push(id);
  }
  return { visibleIds, counts };
}
