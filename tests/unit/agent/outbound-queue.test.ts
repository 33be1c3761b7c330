import { describe, expect, it } from 'vitest';
import { OutboundQueue, type TelemetryReport } from '../../../agent-sim/agent/outbound-queue.ts';

const data = (n: number): TelemetryReport => ({ kind: 'data', report: { key: `item.${n}`, value: n, at: n } });
const event = (n: number): TelemetryReport => ({ kind: 'event', report: { at: n, type: 'door', severity: 'info', message: `event ${n}` } });
const alarm = (n: number): TelemetryReport => ({ kind: 'alarm', report: { action: 'clear', at: n, code: `A${n}` } });

const ALL = { data: 1000, event: 1000, alarm: 1000 };
const ats = (batch: readonly TelemetryReport[]) => batch.map((item) => item.report.at);

describe('OutboundQueue', () => {
  it('keeps every report, in order, while under capacity', () => {
    const queue = new OutboundQueue(10);
    for (let n = 1; n <= 4; n += 1) queue.push(data(n));
    expect(queue.size).toBe(4);
    const { batch, dropped } = queue.take(ALL);
    expect(ats(batch)).toEqual([1, 2, 3, 4]);
    expect(dropped).toBe(0);
    expect(queue.size).toBe(0);
  });

  it('drops the oldest reports beyond capacity and counts them per take and in total', () => {
    const queue = new OutboundQueue(5);
    for (let n = 1; n <= 8; n += 1) queue.push(data(n));
    expect(queue.size).toBe(5);
    expect(queue.dropped).toBe(3);

    const first = queue.take(ALL);
    expect(ats(first.batch)).toEqual([4, 5, 6, 7, 8]);
    expect(first.dropped).toBe(3);

    for (let n = 9; n <= 15; n += 1) queue.push(data(n));
    const second = queue.take(ALL);
    expect(ats(second.batch)).toEqual([11, 12, 13, 14, 15]);
    expect(second.dropped).toBe(2);
    expect(queue.dropped).toBe(5);

    expect(queue.take(ALL)).toEqual({ batch: [], dropped: 0 });
  });

  it('takes at most the limit of each kind, oldest first, and leaves the rest queued in order', () => {
    const queue = new OutboundQueue(20);
    queue.push(data(1));
    queue.push(event(2));
    queue.push(data(3));
    queue.push(alarm(4));
    queue.push(data(5));
    queue.push(event(6));

    const { batch } = queue.take({ data: 2, event: 5, alarm: 5 });
    // stops at the third data report so later reports never overtake it
    expect(ats(batch)).toEqual([1, 2, 3, 4]);
    expect(batch.map((b) => b.kind)).toEqual(['data', 'event', 'data', 'alarm']);
    expect(queue.size).toBe(2);
    expect(ats(queue.take(ALL).batch)).toEqual([5, 6]);
  });

  it('takes nothing when the oldest report is of a kind whose limit is zero', () => {
    const queue = new OutboundQueue(5);
    queue.push(event(1));
    queue.push(data(2));
    expect(queue.take({ data: 5, event: 0, alarm: 5 }).batch).toEqual([]);
    expect(queue.size).toBe(2);
  });

  it('restores an unaccepted batch in front of newer reports, in its order, with its drop count', () => {
    const queue = new OutboundQueue(10);
    for (let n = 1; n <= 5; n += 1) queue.push(data(n));
    const taken = queue.take({ data: 3, event: 0, alarm: 0 });
    expect(ats(taken.batch)).toEqual([1, 2, 3]);
    queue.push(event(6));

    queue.restore(taken.batch, taken.dropped);
    expect(queue.size).toBe(6);
    const again = queue.take(ALL);
    expect(ats(again.batch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(again.dropped).toBe(0);
    expect(queue.dropped).toBe(0);
  });

  it('reports again on restore the drops it had reported with the failed batch, without counting them twice in total', () => {
    const queue = new OutboundQueue(4);
    for (let n = 1; n <= 6; n += 1) queue.push(data(n));
    const taken = queue.take({ data: 2, event: 0, alarm: 0 });
    expect(taken.dropped).toBe(2);

    queue.restore(taken.batch, taken.dropped);
    const again = queue.take(ALL);
    expect(ats(again.batch)).toEqual([3, 4, 5, 6]);
    expect(again.dropped).toBe(2);
    expect(queue.dropped).toBe(2);
  });

  it('re-applies the bound on restore, dropping the oldest overflow and counting it as dropped', () => {
    const queue = new OutboundQueue(10);
    for (let n = 1; n <= 12; n += 1) queue.push(data(n));
    const taken = queue.take({ data: 4, event: 0, alarm: 0 });
    expect(ats(taken.batch)).toEqual([3, 4, 5, 6]);
    expect(taken.dropped).toBe(2);
    for (let n = 13; n <= 15; n += 1) queue.push(data(n));

    queue.restore(taken.batch, taken.dropped);
    expect(queue.size).toBe(10);
    expect(queue.dropped).toBe(5);
    const again = queue.take(ALL);
    expect(ats(again.batch)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(again.dropped).toBe(2 + 3);

    queue.push(data(16));
    expect(ats(queue.take(ALL).batch)).toEqual([16]);
  });

  it('stays at capacity after a million pushes into a queue of 100, counting every drop', () => {
    const queue = new OutboundQueue(100);
    for (let n = 1; n <= 1_000_000; n += 1) queue.push(data(n));
    expect(queue.size).toBe(100);
    expect(queue.dropped).toBe(999_900);
    const { batch, dropped } = queue.take(ALL);
    expect(batch).toHaveLength(100);
    expect(batch[0]?.report.at).toBe(999_901);
    expect(batch[99]?.report.at).toBe(1_000_000);
    expect(dropped).toBe(999_900);
  });
});
