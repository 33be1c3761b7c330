import type { LiveEvent } from '#contract/api/live';
import type { TransferDetail, TransferView } from '#contract/api/transfers';
import { TetherError } from '#contract/errors';
import { isOlderView, localCourse, withDeclaredFile } from './server-view.ts';
import type { TransferBook } from './transfer-book.ts';
import { type TransferEntry, isTerminal } from './transfer-entry.ts';
import type { TransferLink } from './transfer-run.ts';


/**
 * Keeps each transfer here in step with the server, the authority on its state: the
 * server's answers and live events (`transfer.state`, `transfer.progress`) are adopted as
 * they come, a sign-in asks where every unfinished transfer stands, and a run waiting on
 * the server polls when no live event came.
 */
export class ServerReconciler {
  constructor(
    private readonly book: TransferBook,
    /** How often a run waiting on the server asks, when no live event came. */
    private readonly pollMs: number,
  ) {}

  /** After a sign-in: where each unfinished transfer stands on the server (one it no longer has fails here). */
  async catchUp(link: TransferLink, generation: number): Promise<void> {
    await Promise.all(
      this.book
        .all()
        .filter((e) => !isTerminal(e.record.state) && e.record.transferId)
        .map(async (entry) => {
          try {
            await this.refresh(entry, link, generation);
          } catch (err) {
            if (!this.book.isCurrent(generation)) return;
            if (err instanceof TetherError && err.code === 'NOT_FOUND') void this.book.conclude(entry, 'failed', { code: 'NOT_FOUND', message: 'the server no longer has this transfer' });
          }
        }),
    );
  }

  /** Live events of the server: a transfer's state and progress. */
  receive(event: LiveEvent): void {
    if (event.type === 'transfer.state') {
      const entry = this.book.byTransferId(event.transfer.id);
      if (entry) this.adopt(entry, event.transfer);
    } else if (event.type === 'transfer.progress') {
      const entry = this.book.byTransferId(event.transferId);
      if (!entry?.server) return;
      entry.server = { ...entry.server, uploadedBytes: event.uploadedBytes, deliveredBytes: event.deliveredBytes };
      if (entry.stage === 'delivering') entry.meter.record(event.deliveredBytes);
      this.book.changed();
    }
  }

  /**
   * Takes the server's view of a transfer (an answer or a live event) unless an earlier
   * one: a pause, cancel or failure there stops the run here; a resume starts it again.
   * A local failure stays until the user retries; a local end is final.
   */
  adopt(entry: TransferEntry, view: TransferView): void {
    if (isOlderView(entry.server, view)) return;
    entry.server = view;
    entry.record = withDeclaredFile(entry.record, view);
    for (const wake of [...entry.waiters]) wake();
    const course = localCourse(entry.record, view);
    switch (course.kind) {
      case 'conclude':
        void this.book.conclude(entry, course.state, course.error);
        break;
      case 'pause':
        this.book.setState(entry, 'paused', null);
        break;
      case 'resume':
        this.book.activate(entry);
        break;
      case 'none':
        break;
    }
    this.book.changed();
  }

  /** The server's view now, adopted while `generation` is still the sign-in. */
  async refresh(entry: TransferEntry, link: TransferLink, generation: number): Promise<TransferDetail> {
    const detail: TransferDetail = await link.api.call('transfers.get', { transferId: entry.record.transferId! });
    if (this.book.isCurrent(generation)) this.adopt(entry, detail);
    return detail;
  }

  /** Resolves once the server's view satisfies `until`: woken by live events, asking every `pollMs` without them. */
  async waitFor(entry: TransferEntry, link: TransferLink, signal: AbortSignal, generation: number, until: (view: TransferView) => boolean): Promise<TransferView> {
    for (;;) {
      signal.throwIfAborted();
      if (entry.server && until(entry.server)) return entry.server;
      const woken = await new Promise<boolean>((resolveWait) => {
        const wake = (byEvent: boolean) => () => {
          clearTimeout(timer);
          entry.waiters.delete(onEvent);
          signal.removeEventListener('abort', onAbort);
          resolveWait(byEvent);
        };
        const onEvent = wake(true);
        const onAbort = wake(true);
        const timer = setTimeout(wake(false), this.pollMs);
        entry.waiters.add(onEvent);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      signal.throwIfAborted();
      if (!woken && entry.record.transferId) await this.refresh(entry, link, generation);
    }
  }
}
