import type { ServerContext } from '../context.ts';
import { publishLive } from '../live/publish.ts';
import { recordDeviceEvent } from './telemetry.ts';
import { isoOf } from './views.ts';

/**
 * Marks devices `missing` when they stop polling without saying goodbye: after
 * `missedPollsBeforeMissing` poll windows plus a grace period without contact. Idempotent
 * and safe to run on every node of a cluster at once.
 */
export async function sweepMissingDevices(ctx: ServerContext, now = Date.now()): Promise<number> {
  const threshold = now - (ctx.config.missedPollsBeforeMissing * ctx.config.pollWindowMs + ctx.config.statusGraceMs);
  const live = await ctx.db.transaction().execute(async (trx) => {
    const gone = await trx
      .updateTable('devices')
      .set({ status: 'missing', status_changed_at: now })
      .where('status', '=', 'online')
      .where('last_contact_at', '<', threshold)
      .returning(['id', 'customer_id', 'last_contact_at'])
      .execute();
    const out = [];
    for (const device of gone) {
      const lastContact = device.last_contact_at === null ? 'never' : isoOf(device.last_contact_at);
      out.push({
        customerId: device.customer_id,
        status: { type: 'device.status' as const, deviceId: device.id, status: 'missing' as const, at: isoOf(now), lastContactAt: device.last_contact_at === null ? null : isoOf(device.last_contact_at) },
        event: await recordDeviceEvent(trx, {
          device_id: device.id,
          at: now,
          type: 'status.missing',
          severity: 'warning',
          message: `Device missed ${ctx.config.missedPollsBeforeMissing} polls (last contact ${lastContact})`,
          data: null,
        }),
      });
    }
    return out;
  });
  for (const item of live) {
    publishLive(ctx.bus, item.customerId, item.status);
    publishLive(ctx.bus, item.customerId, item.event);
  }
  return live.length;
}
