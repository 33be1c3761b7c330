import type { TetherError } from '#contract/errors';
import { runDownload } from './download-run.ts';
import { type RetryPolicy, asTetherError, failureClass, retryDelay } from './retry-rules.ts';
import { runContext } from './run-context.ts';
import type { ServerReconciler } from './server-reconciler.ts';
import type { TransferBook } from './transfer-book.ts';
import { type TransferEntry, isActive, isTerminal } from './transfer-entry.ts';
import { runUpload } from './upload-run.ts';


/**
 * Runs the transfers: the oldest waiting ones first, a few at a time per device, each as
 * an upload or download procedure; when a run ends it decides what follows — done, a
 * retry after a backoff (network failures), a look at the server first (its side
 * changed), or a failure the engineer sees.
 */
export class TransferScheduler {
  constructor(
    private readonly book: TransferBook,
    private readonly reconciler: ServerReconciler,
    /** Transfers this console works on at once per device (the server has its own limits too). */
    private readonly maxPerDevice: number,
    private readonly retryPolicy: RetryPolicy,
  ) {}

  /** Starts waiting transfers while their device has a free slot here. */
  pump(): void {
    if (!this.book.link) return;
    for (const entry of runsToStart(this.book.all(), this.maxPerDevice)) this.start(entry);
  }

  private start(entry: TransferEntry): void {
    const link = this.book.link!;
    const generation = this.book.generation;
    const controller = new AbortController();
    const run = runContext(entry, link, controller.signal, generation, this.book, this.reconciler);
    entry.retryAt = null;
    entry.stage = null;
    entry.meter.reset();
    if (entry.record.state === 'queued') this.book.setState(entry, 'running', null);
    const procedure = entry.record.direction === 'to-device' ? runUpload : runDownload;
    const done = procedure(run).then(
      () => this.runEnded(entry, controller, generation, undefined),
      (err: unknown) => this.runEnded(entry, controller, generation, err),
    );
    entry.worker = { controller, done };
    this.book.changedNow();
  }

  private async runEnded(entry: TransferEntry, controller: AbortController, generation: number, err: unknown): Promise<void> {
    if (entry.worker?.controller === controller) entry.worker = undefined;
    entry.stage = null;
    if (!this.book.isCurrent(generation)) return;
    if (controller.signal.aborted) {
      // whoever stopped the run has set the state already; a resume may be waiting for the slot
    } else if (err === undefined) {
      if (!isTerminal(entry.record.state)) this.book.setState(entry, 'completed', null);
      await this.book.discardStaged(entry.record);
    } else {
      await this.failed(entry, asTetherError(err), generation);
    }
    if (!this.book.isCurrent(generation)) return;
    this.pump();
    this.book.changedNow();
  }

  /** A run failed: ask the server when it may know better, retry what is transient, else fail. */
  private async failed(entry: TransferEntry, error: TetherError, generation: number): Promise<void> {
    const failure = failureClass(error.code);
    if (failure === 'signed-out') return;
    const link = this.book.link;
    if (failure === 'server-changed' && entry.record.transferId && link) {
      try {
        const view = await this.reconciler.refresh(entry, link, generation);
        if (!this.book.isCurrent(generation)) return;
        if (!isActive(view.state)) return;
      } catch {
        // the server cannot say now: treated as the network failure it probably is
      }
    }
    if (!this.book.isCurrent(generation) || !isActive(entry.record.state)) return;
    const delay = retryDelay(failure, entry.failures, this.retryPolicy);
    if (delay !== null) {
      entry.failures += 1;
      entry.record = { ...entry.record, attempts: entry.record.attempts + 1, error: { code: error.code, message: error.message } };
      entry.retryAt = Date.now() + delay;
      entry.stage = 'retrying';
      this.book.save(entry);
      entry.retryTimer = setTimeout(() => {
        entry.retryTimer = undefined;
        entry.retryAt = null;
        this.pump();
      }, delay);
      entry.retryTimer.unref();
      return;
    }
    void this.book.conclude(entry, 'failed', { code: error.code, message: error.message });
    // the server keeps its slot for a transfer it thinks runs: pause it there (best effort; retry resumes it)
    if (entry.record.transferId && link && entry.server && isActive(entry.server.state)) {
      await link.api.call('transfers.pause', { transferId: entry.record.transferId }).then(
        (view) => {
          if (this.book.isCurrent(generation)) entry.server = view;
        },
        () => undefined,
      );
    }
  }
}

/**
 * The waiting transfers to start now: oldest first, while their device has fewer than
 * `maxPerDevice` runs here. One waiting for its retry is not waiting for a slot.
 */
export function runsToStart(entries: readonly TransferEntry[], maxPerDevice: number): TransferEntry[] {
  const busy = new Map<string, number>();
  for (const e of entries) if (e.worker) busy.set(e.record.deviceId, (busy.get(e.record.deviceId) ?? 0) + 1);
  const waiting = entries.filter((e) => isActive(e.record.state) && !e.worker && !e.retryTimer).sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
  const starting: TransferEntry[] = [];
  for (const entry of waiting) {
    const count = busy.get(entry.record.deviceId) ?? 0;
    if (count >= maxPerDevice) continue;
    busy.set(entry.record.deviceId, count + 1);
    starting.push(entry);
  }
  return starting;
}
