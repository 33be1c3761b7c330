import type { LiveEvent } from '#contract/api/live';

/**
 * What server nodes tell each other. A single node uses the in-process bus; several nodes
 * behind a load balancer use a Redis-backed bus with this same interface, so a command
 * queued on node A wakes the poll the agent holds on node B.
 */
export interface BusMessages {
  /** Work is waiting for this device: answer its held poll now. */
  'device.wake': { deviceId: string };
  /** Something consoles watching this customer's devices should see. */
  live: { customerId: string; event: LiveEvent };
  /** A login session (token family) ended: close its live connections. */
  'auth.revoked': { familyId: string };
}

export type BusTopic = keyof BusMessages;
export type BusHandler<T extends BusTopic> = (message: BusMessages[T]) => void;

export interface Bus {
  publish<T extends BusTopic>(topic: T, message: BusMessages[T]): void;
  /** Returns the unsubscribe function. */
  subscribe<T extends BusTopic>(topic: T, handler: BusHandler<T>): () => void;
  close(): Promise<void>;
}

/** The single-node bus: synchronous fan-out inside this process. */
export class InProcessBus implements Bus {
  private readonly handlers = new Map<BusTopic, Set<(message: never) => void>>();

  publish<T extends BusTopic>(topic: T, message: BusMessages[T]): void {
    const set = this.handlers.get(topic);
    if (!set) return;
    for (const handler of set) (handler as BusHandler<T>)(message);
  }

  subscribe<T extends BusTopic>(topic: T, handler: BusHandler<T>): () => void {
    let set = this.handlers.get(topic);
    if (!set) {
      set = new Set();
      this.handlers.set(topic, set);
    }
    set.add(handler as (message: never) => void);
    return () => set.delete(handler as (message: never) => void);
  }

  close(): Promise<void> {
    this.handlers.clear();
    return Promise.resolve();
  }
}
