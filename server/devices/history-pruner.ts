import type { Db } from '../store/database.ts';

/**
 * Keeps data-item history bounded: remembers which (device, key) pairs received points
 * and, on each run, trims only those to the newest `keep` points. Work is proportional to
 * what arrived since the last run, not to the size of the table.
 */
export class HistoryPruner {
  private dirty = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly keep: number,
  ) {}

  markDirty(deviceId: string, keys: Iterable<string>): void {
    for (const key of keys) this.dirty.add(`${deviceId}\u0000${key}`);
  }

  async run(): Promise<void> {
    const batch = this.dirty;
    this.dirty = new Set();
    for (const entry of batch) {
      const [deviceId = '', key = ''] = entry.split('\u0000');
      await this.db
        .deleteFrom('data_item_history')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('data_item_history')
            .select('id')
            .where('device_id', '=', deviceId)
            .where('key', '=', key)
            .orderBy('at', 'desc')
            .orderBy('id', 'desc')
            .limit(Number.MAX_SAFE_INTEGER)
            .offset(this.keep),
        )
        .execute();
    }
  }
}
