import { randomUUID } from 'node:crypto';
import type { Insertable, Transaction } from 'kysely';
import type { LiveEvent } from '#contract/api/live';
import type { AlarmReport, DataItemReport, EventReport } from '#contract/protocol/poll';
import type { Database, DeviceEventsTable } from '../store/schema.ts';
import { isoOf, toAlarm, toDeviceEvent } from './views.ts';

/** What one poll carried up, already validated against the protocol schema. */
export interface TelemetryBatch {
  dataItems: readonly DataItemReport[];
  events: readonly EventReport[];
  alarms: readonly AlarmReport[];
}

/**
 * Stores a device's reports inside the poll's transaction and returns the live events to
 * publish once it commits. Data items keep their latest value and a bounded history;
 * alarms follow active → acknowledged → closed, a repeat of an open alarm only counts up.
 */
export async function ingestTelemetry(
  trx: Transaction<Database>,
  deviceId: string,
  batch: TelemetryBatch,
): Promise<LiveEvent[]> {
  const live: LiveEvent[] = [];
  if (batch.dataItems.length) {
    const latest = new Map<string, DataItemReport>();
    for (const item of batch.dataItems) {
      const prev = latest.get(item.key);
      if (!prev || prev.at <= item.at) latest.set(item.key, item);
    }
    await trx
      .insertInto('data_item_history')
      .values(batch.dataItems.map((i) => ({ device_id: deviceId, key: i.key, value: JSON.stringify(i.value), at: i.at })))
      .execute();
    for (const item of latest.values()) {
      await trx
        .insertInto('data_items')
        .values({ device_id: deviceId, key: item.key, value: JSON.stringify(item.value), at: item.at })
        .onConflict((oc) =>
          oc.columns(['device_id', 'key']).doUpdateSet({ value: JSON.stringify(item.value), at: item.at }).where('data_items.at', '<=', item.at),
        )
        .execute();
    }
    live.push({
      type: 'device.data',
      deviceId,
      items: [...latest.values()].map((i) => ({ key: i.key, value: i.value, at: isoOf(i.at) })),
    });
  }

  const events: Insertable<DeviceEventsTable>[] = batch.events.map((e) => ({
    device_id: deviceId,
    at: e.at,
    type: e.type,
    severity: e.severity,
    message: e.message,
    data: e.data ? JSON.stringify(e.data) : null,
  }));

  for (const report of batch.alarms) {
    const open = await trx
      .selectFrom('alarms')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('code', '=', report.code)
      .where('state', '!=', 'closed')
      .executeTakeFirst();
    if (report.action === 'raise') {
      if (open) {
        await trx
          .updateTable('alarms')
          .set({ count: Number(open.count) + 1, last_at: report.at, severity: report.severity, message: report.message })
          .where('id', '=', open.id)
          .execute();
      } else {
        await trx
          .insertInto('alarms')
          .values({
            id: randomUUID(),
            device_id: deviceId,
            code: report.code,
            severity: report.severity,
            message: report.message,
            state: 'active',
            count: 1,
            first_at: report.at,
            last_at: report.at,
            acknowledged_by: null,
            acknowledged_at: null,
            closed_at: null,
          })
          .execute();
        events.push({
          device_id: deviceId,
          at: report.at,
          type: 'alarm.raised',
          severity: report.severity === 'critical' || report.severity === 'major' ? 'error' : 'warning',
          message: `${report.code}: ${report.message}`,
          data: JSON.stringify({ code: report.code, severity: report.severity }),
        });
      }
    } else if (open) {
      await trx.updateTable('alarms').set({ state: 'closed', closed_at: report.at }).where('id', '=', open.id).execute();
      events.push({
        device_id: deviceId,
        at: report.at,
        type: 'alarm.cleared',
        severity: 'info',
        message: `${report.code} cleared`,
        data: JSON.stringify({ code: report.code }),
      });
    }
    const current = await trx
      .selectFrom('alarms')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where('code', '=', report.code)
      .orderBy('last_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (current) live.push({ type: 'device.alarm', deviceId, alarm: toAlarm(current) });
  }

  if (events.length) {
    const inserted = await trx.insertInto('device_events').values(events).returningAll().execute();
    for (const row of inserted) live.push({ type: 'device.event', deviceId, event: toDeviceEvent(row) });
  }
  return live;
}

/** Records a server-side event about a device (status change, enrollment) in the timeline. */
export async function recordDeviceEvent(
  trx: Transaction<Database>,
  event: Insertable<DeviceEventsTable>,
): Promise<LiveEvent> {
  const row = await trx.insertInto('device_events').values(event).returningAll().executeTakeFirstOrThrow();
  return { type: 'device.event', deviceId: row.device_id, event: toDeviceEvent(row) };
}
