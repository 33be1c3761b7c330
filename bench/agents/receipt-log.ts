import { benchNow } from './rpc.ts';

/**
 * When each command first reached an agent in this process. Receipts go to the
 * orchestrator in small batches (every `flushMs`) so that a burst of a thousand answers
 * does not become a thousand IPC messages while it is being measured.
 */
export class ReceiptLog {
  private readonly seen = new Set<string>();
  private batch: [string, number][] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (receipts: [commandId: string, receivedAt: number][]) => void,
    private readonly flushMs = 50,
  ) {}

  /** Records the first receipt of `commandId` (a redelivery is not a new receipt). */
  record(commandId: string, at = benchNow()): void {
    if (this.seen.has(commandId)) return;
    this.seen.add(commandId);
    this.batch.push([commandId, at]);
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.batch.length) return;
    const batch = this.batch;
    this.batch = [];
    this.send(batch);
  }
}
