import type { LiveEvent } from '#contract/api/live';
import type { Bus } from '../bus/bus.ts';

/** Sends a live event to consoles whose scope includes the device's customer. */
export function publishLive(bus: Bus, customerId: string, event: LiveEvent): void {
  bus.publish('live', { customerId, event });
}
