import type { AlarmReport, DataItemReport, EventReport } from '#contract/protocol/poll';

export type TelemetryReport =
  | { kind: 'data'; report: DataItemReport }
  | { kind: 'event'; report: EventReport }
  | { kind: 'alarm'; report: AlarmReport };

/**
 * Telemetry waiting for the server, bounded: a ring buffer that drops the oldest report
 * when full and counts what it dropped, so memory stays flat however long an outage lasts
 * and the server is told how much was lost.
 */
export class OutboundQueue {
  private readonly ring: (TelemetryReport | undefined)[];
  private head = 0;
  private count = 0;
  private droppedSinceReport = 0;
  private droppedTotal = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array<TelemetryReport | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Reports dropped over the agent's life. */
  get dropped(): number {
    return this.droppedTotal;
  }

  push(item: TelemetryReport): void {
    if (this.count === this.capacity) {
      this.head = (this.head + 1) % this.capacity;
      this.count -= 1;
      this.droppedSinceReport += 1;
      this.droppedTotal += 1;
    }
    this.ring[(this.head + this.count) % this.capacity] = item;
    this.count += 1;
  }

  /** Takes up to `limits` of each kind, oldest first, plus the drop count since the last take. */
  take(limits: { data: number; event: number; alarm: number }): { batch: TelemetryReport[]; dropped: number } {
    const batch: TelemetryReport[] = [];
    const left = { ...limits };
    while (this.count > 0) {
      const item = this.ring[this.head];
      if (!item || left[item.kind] === 0) break;
      left[item.kind] -= 1;
      batch.push(item);
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count -= 1;
    }
    const dropped = this.droppedSinceReport;
    this.droppedSinceReport = 0;
    return { batch, dropped };
  }

  /** Puts back a batch the server did not accept (in front, order kept), then re-applies the bound. */
  restore(batch: readonly TelemetryReport[], dropped: number): void {
    this.droppedSinceReport += dropped;
    const pending: TelemetryReport[] = [];
    for (let i = 0; i < this.count; i += 1) {
      const item = this.ring[(this.head + i) % this.capacity];
      if (item) pending.push(item);
    }
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
    const all = [...batch, ...pending];
    const overflow = Math.max(0, all.length - this.capacity);
    this.droppedSinceReport += overflow;
    this.droppedTotal += overflow;
    for (const item of all.slice(overflow)) this.push(item);
  }
}
