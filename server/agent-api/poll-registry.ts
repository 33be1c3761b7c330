import type { Bus } from '../bus/bus.ts';

interface HeldPoll {
  wake: () => void;
  supersede: () => void;
}

/**
 * The polls this node is holding open, one per device. A `device.wake` from any node
 * answers the device's held poll here; a newer poll from the same device supersedes the
 * older one (its connection is usually dead already).
 */
export class PollRegistry {
  private readonly held = new Map<string, HeldPoll>();
  private readonly unsubscribe: () => void;

  constructor(bus: Bus) {
    this.unsubscribe = bus.subscribe('device.wake', ({ deviceId }) => this.held.get(deviceId)?.wake());
  }

  get size(): number {
    return this.held.size;
  }

  /** Whether this node holds a poll of `deviceId` right now. */
  holds(deviceId: string): boolean {
    return this.held.has(deviceId);
  }

  /**
   * Registers a poll for `deviceId` and returns a handle: `wait(ms)` resolves when work
   * arrives, the poll is superseded or closed, or `ms` pass. Registering before the first
   * look for work means no wake-up can fall between the look and the wait.
   */
  hold(deviceId: string): PollHandle {
    this.held.get(deviceId)?.supersede();
    return new PollHandle(deviceId, this.held);
  }

  /** Answers the device's held poll (if any) at once, empty. */
  end(deviceId: string): void {
    this.held.get(deviceId)?.supersede();
  }

  close(): void {
    this.unsubscribe();
    for (const poll of this.held.values()) poll.supersede();
    this.held.clear();
  }
}

export type PollWake = 'work' | 'timeout' | 'superseded' | 'closed';

export class PollHandle {
  private pending: PollWake | undefined;
  private resolver: ((reason: PollWake) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly entry: HeldPoll;

  constructor(
    private readonly deviceId: string,
    private readonly registry: Map<string, HeldPoll>,
  ) {
    this.entry = { wake: () => this.signal('work'), supersede: () => this.signal('superseded') };
    registry.set(deviceId, this.entry);
  }

  /** Waits for a wake-up; a signal that arrived since the last wait is returned at once. */
  wait(ms: number): Promise<PollWake> {
    if (this.pending) {
      const reason = this.pending;
      if (reason === 'work') this.pending = undefined;
      return Promise.resolve(reason);
    }
    return new Promise((resolve) => {
      this.resolver = resolve;
      this.timer = setTimeout(() => this.signal('timeout'), ms);
    });
  }

  /** The connection went away. */
  abort(): void {
    this.signal('closed');
  }

  release(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.registry.get(this.deviceId) === this.entry) this.registry.delete(this.deviceId);
  }

  private signal(reason: PollWake): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const resolve = this.resolver;
    this.resolver = undefined;
    if (resolve) resolve(reason);
    else if (this.pending !== 'superseded' && this.pending !== 'closed') this.pending = reason;
  }
}
