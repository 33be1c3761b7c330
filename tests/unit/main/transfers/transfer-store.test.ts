import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HISTORY_KEPT, type TransferRecord, TransferRecordStore } from '../../../../src/main/services/transfers/transfer-store.ts';
import { transferRecord } from './transfer-fixtures.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'tether-transfer-records-'));

/** A running download's record under `id`, as the engine would write it. */
function record(id: string, overrides: Partial<TransferRecord> = {}): TransferRecord {
  return transferRecord({ id, transferId: `t-${id}`, ...overrides });
}

describe('persisted transfer records', () => {
  it('survive a restart: a new store reads back what the old one wrote, per profile and user', () => {
    const path = dir();
    const before = new TransferRecordStore(path);
    before.save(record('a'));
    before.save(record('b', { owner: 'hosted-eu/u1', verifiedChunks: 1 }));
    before.save(record('a', { verifiedChunks: 4 }));
    const after = new TransferRecordStore(path);
    expect(after.load('simulator/u1')).toEqual([record('a', { verifiedChunks: 4 })]);
    expect(after.load('hosted-eu/u1').map((r) => r.id)).toEqual(['b']);
  });

  it('skips a damaged or foreign file instead of failing, and leaves no temporary files', () => {
    const path = dir();
    const store = new TransferRecordStore(path);
    store.save(record('good'));
    writeFileSync(join(path, 'torn.json'), '{"version":1,"id":"torn"');
    writeFileSync(join(path, 'other.json'), JSON.stringify({ hello: 'world' }));
    writeFileSync(join(path, 'renamed.json'), JSON.stringify(record('not-renamed')));
    expect(store.load('simulator/u1').map((r) => r.id)).toEqual(['good']);
    expect(readdirSync(path).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps the newest finished transfers as history and forgets older ones, never a running one', () => {
    const path = dir();
    const store = new TransferRecordStore(path);
    const at = (i: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString();
    for (let i = 0; i < HISTORY_KEPT + 5; i++) store.save(record(`done-${i}`, { state: 'completed', createdAt: at(i) }));
    store.save(record('running-old', { createdAt: at(0) }));
    const loaded = store.load('simulator/u1');
    expect(loaded.filter((r) => r.state === 'completed')).toHaveLength(HISTORY_KEPT);
    expect(loaded.some((r) => r.id === 'done-0')).toBe(false);
    expect(loaded.some((r) => r.id === `done-${HISTORY_KEPT + 4}`)).toBe(true);
    expect(loaded.some((r) => r.id === 'running-old')).toBe(true);
    expect(readdirSync(path)).toHaveLength(HISTORY_KEPT + 1);
  });

  it('removes a record', () => {
    const store = new TransferRecordStore(dir());
    store.save(record('a'));
    store.remove('a');
    expect(store.load('simulator/u1')).toEqual([]);
  });
});
