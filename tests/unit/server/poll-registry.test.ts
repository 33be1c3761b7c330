import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PollRegistry } from '../../../server/agent-api/poll-registry.ts';
import { InProcessBus } from '../../../server/bus/bus.ts';

let bus: InProcessBus;
let registry: PollRegistry;

beforeEach(() => {
  bus = new InProcessBus();
  registry = new PollRegistry(bus);
});
afterEach(async () => {
  registry.close();
  await bus.close();
});

const wake = (deviceId: string) => bus.publish('device.wake', { deviceId });
const LONG = 10_000;

describe('PollRegistry', () => {
  it('answers a held poll with "work" when a wake for its device is published on the bus', async () => {
    const handle = registry.hold('dev-1');
    const waiting = handle.wait(LONG);
    wake('dev-1');
    await expect(waiting).resolves.toBe('work');
    handle.release();
  });

  it('does not answer a poll for a wake meant for another device', async () => {
    const handle = registry.hold('dev-1');
    const waiting = handle.wait(30);
    wake('dev-2');
    await expect(waiting).resolves.toBe('timeout');
    handle.release();
  });

  it('keeps a wake that arrives between hold and wait, and returns it at once', async () => {
    const handle = registry.hold('dev-1');
    wake('dev-1');
    const started = Date.now();
    await expect(handle.wait(LONG)).resolves.toBe('work');
    expect(Date.now() - started).toBeLessThan(1000);
    // the wake was consumed: the next wait waits again
    await expect(handle.wait(20)).resolves.toBe('timeout');
    handle.release();
  });

  it('supersedes the first poll when the same device holds a second one', async () => {
    const first = registry.hold('dev-1');
    const firstWaiting = first.wait(LONG);
    const second = registry.hold('dev-1');
    await expect(firstWaiting).resolves.toBe('superseded');
    expect(registry.size).toBe(1);

    const secondWaiting = second.wait(LONG);
    wake('dev-1');
    await expect(secondWaiting).resolves.toBe('work');

    first.release();
    expect(registry.size).toBe(1);
    second.release();
    expect(registry.size).toBe(0);
  });

  it('tells a superseded poll so even when it starts waiting afterwards', async () => {
    const first = registry.hold('dev-1');
    const second = registry.hold('dev-1');
    await expect(first.wait(LONG)).resolves.toBe('superseded');
    await expect(first.wait(LONG)).resolves.toBe('superseded');
    first.release();
    second.release();
  });

  it('answers "timeout" when no wake comes within the window', async () => {
    const handle = registry.hold('dev-1');
    const started = Date.now();
    await expect(handle.wait(40)).resolves.toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
    handle.release();
  });

  it('answers "closed" when the connection goes away', async () => {
    const handle = registry.hold('dev-1');
    const waiting = handle.wait(LONG);
    handle.abort();
    await expect(waiting).resolves.toBe('closed');
    handle.release();
  });

  it('forgets a released poll, so a later wake does nothing', async () => {
    const handle = registry.hold('dev-1');
    expect(registry.size).toBe(1);
    handle.release();
    expect(registry.size).toBe(0);
    wake('dev-1');
    await expect(handle.wait(30)).resolves.toBe('timeout');
  });

  it('answers the held poll of a device at once when it is ended, and no other', async () => {
    const one = registry.hold('dev-1');
    const two = registry.hold('dev-2');
    const oneWaiting = one.wait(LONG);
    const twoWaiting = two.wait(40);
    registry.end('dev-1');
    await expect(oneWaiting).resolves.toBe('superseded');
    await expect(twoWaiting).resolves.toBe('timeout');
    registry.end('dev-unknown');
    one.release();
    two.release();
    expect(registry.size).toBe(0);
  });

  it('closes every held poll when the registry closes and stops listening to the bus', async () => {
    const one = registry.hold('dev-1');
    const waiting = one.wait(LONG);
    registry.close();
    await expect(waiting).resolves.toBe('superseded');
    expect(registry.size).toBe(0);
  });
});
