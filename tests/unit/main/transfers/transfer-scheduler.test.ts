import { describe, expect, it } from 'vitest';
import { runsToStart } from '../../../../src/main/services/transfers/transfer-scheduler.ts';
import { runningWorker, transferEntry, transferRecord } from './transfer-fixtures.ts';

const at = (minute: number) => `2025-01-01T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('which waiting transfers start', () => {
  it('starts the oldest waiting ones first, at most two at once per device', () => {
    const entries = [3, 1, 2, 0].map((m) => transferEntry(transferRecord({ id: `q${m}`, state: 'queued', createdAt: at(m) })));
    expect(runsToStart(entries, 2).map((e) => e.record.id)).toEqual(['q0', 'q1']);
  });

  it('counts the runs going on against the device’s slots; other devices have their own', () => {
    const entries = [
      transferEntry(transferRecord({ id: 'busy', state: 'running', createdAt: at(0) }), { worker: runningWorker() }),
      transferEntry(transferRecord({ id: 'd1-a', state: 'queued', createdAt: at(1) })),
      transferEntry(transferRecord({ id: 'd1-b', state: 'queued', createdAt: at(2) })),
      transferEntry(transferRecord({ id: 'd2-a', deviceId: 'd2', state: 'queued', createdAt: at(3) })),
    ];
    expect(runsToStart(entries, 2).map((e) => e.record.id)).toEqual(['d1-a', 'd2-a']);
  });

  it('starts no paused, finished or failed transfer, nor one waiting for its retry', () => {
    const retrying = transferEntry(transferRecord({ id: 'retrying', state: 'running', createdAt: at(0) }), { retryTimer: setTimeout(() => undefined, 0) });
    clearTimeout(retrying.retryTimer);
    const entries = [
      retrying,
      ...(['paused', 'completed', 'failed', 'canceled'] as const).map((state, i) => transferEntry(transferRecord({ id: state, state, createdAt: at(i + 1) }))),
      transferEntry(transferRecord({ id: 'resumed', state: 'running', createdAt: at(9) })),
    ];
    expect(runsToStart(entries, 2).map((e) => e.record.id)).toEqual(['resumed']);
  });
});
