import { describe, it, expect } from 'vitest';
import { isRaised, onFakeClock } from './fake-clock.ts';

describe('radimetrics server', () => {
  it('only raises CPU_HIGH after three consecutive samples at or above 95 %', () => {
    const sim = onFakeClock('radimetrics', { seed: 1 });
    const cpu: number[] = [];
    const raisedAt: number[] = [];
    sim.device.subscribe((s) => {
      if (s.kind === 'data' && s.key === 'cpu') cpu.push(s.value as number);
      if (s.kind === 'alarm' && s.report.code === 'CPU_HIGH' && s.report.action === 'raise') raisedAt.push(cpu.length - 1);
    });
    sim.ticks(50_000);
    expect(raisedAt.length).toBeGreaterThan(0);
    for (const at of raisedAt) expect(cpu.slice(at - 2, at + 1).every((value) => value >= 95)).toBe(true);
    expect(sim.alarms('CPU_HIGH')[0]).toMatchObject({ severity: 'warning' });
  });

  it('reports the nightly database backup once a night, when it ends at 03:00', () => {
    const sim = onFakeClock('radimetrics', { start: Date.UTC(2025, 0, 6, 2, 50) });
    sim.ticks((24 * 3600) / 2);
    const backups = sim.events('backup.completed');
    expect(backups).toHaveLength(1);
    expect(backups[0]?.at).toBe(Date.UTC(2025, 0, 6, 3, 0));
    expect(backups[0]?.message).toMatch(/^Nightly database backup completed: \d+\.\d GB$/);
  });

  it('grows the database and creeps the disk up slowly, never down without a purge', () => {
    const sim = onFakeClock('radimetrics');
    const read = () => sim.device.read(['db.size', 'disk']) as { 'db.size': number; disk: number };
    sim.ticks(5);
    const before = read();
    sim.ticks(5_000);
    const after = read();
    expect(after['db.size']).toBeGreaterThan(before['db.size']);
    expect(after.disk).toBeGreaterThan(before.disk);
    expect(after.disk - before.disk).toBeLessThan(5);
  });

  it('names the stopped service, degrades while it is down and runs again once restarted', () => {
    const sim = onFakeClock('radimetrics');
    sim.ticks(10);
    sim.device.injectFault('service-down');
    expect(sim.events('fault.injected')[0]?.message).toBe('DICOM listener crash injected');
    sim.ticks(1);
    expect(sim.device.read(['service.dicomListener', 'service.web'])).toEqual({
      'service.dicomListener': 'stopped',
      'service.web': 'running',
    });
    expect(sim.device.state()).toBe('degraded');
    expect(sim.alarms('SERVICE_DOWN')).toMatchObject([
      { action: 'raise', severity: 'critical', message: 'Service stopped: DICOM listener' },
    ]);
    sim.device.clearFault('service-down');
    sim.ticks(1);
    expect(isRaised(sim, 'SERVICE_DOWN')).toBe(false);
    expect(sim.device.state()).toBe('running');
  });

  it('fills the disk past both disk alarms and frees it again once the fault clears', () => {
    const sim = onFakeClock('radimetrics');
    sim.ticks(10);
    sim.device.injectFault('disk-full');
    sim.ticks(1);
    expect(sim.alarms()).toMatchObject([
      { code: 'DISK_SPACE_LOW', action: 'raise', severity: 'major' },
      { code: 'DISK_FULL', action: 'raise', severity: 'critical' },
    ]);
    sim.device.clearFault('disk-full');
    sim.ticks(2);
    expect(isRaised(sim, 'DISK_FULL')).toBe(false);
    expect(isRaised(sim, 'DISK_SPACE_LOW')).toBe(false);
  });

  it('backs up the DICOM queue while processing stalls and drains it afterwards', () => {
    const sim = onFakeClock('radimetrics');
    const queue = () => sim.device.read(['queue.dicom'])['queue.dicom'] as number;
    sim.ticks(10);
    sim.device.injectFault('queue-backlog');
    sim.ticks(30);
    expect(queue()).toBe(5_000);
    expect(sim.alarms('QUEUE_BACKLOG')).toMatchObject([{ action: 'raise', severity: 'minor' }]);
    expect(sim.device.state()).toBe('degraded');
    sim.device.clearFault('queue-backlog');
    expect(sim.ticksUntil(() => queue() < 300, 10)).toBeLessThanOrEqual(6);
    expect(isRaised(sim, 'QUEUE_BACKLOG')).toBe(false);
  });
});
