import type { ServerReconciler } from './server-reconciler.ts';
import type { TransferBook } from './transfer-book.ts';
import type { TransferEntry } from './transfer-entry.ts';
import type { TransferLink, TransferRun } from './transfer-run.ts';

/**
 * The `TransferRun` one run of `entry` works through: its changes go to the book (written,
 * shown), its questions to the server through the reconciler — and nothing it does counts
 * once the sign-in it started under (`generation`) is over.
 */
export function runContext(entry: TransferEntry, link: TransferLink, signal: AbortSignal, generation: number, book: TransferBook, reconciler: ServerReconciler): TransferRun {
  const current = () => book.isCurrent(generation);
  return {
    get record() {
      return entry.record;
    },
    link,
    signal,
    update: (patch, persist = false) => {
      if (!current()) return;
      entry.record = { ...entry.record, ...patch };
      if (persist) book.save(entry);
      book.changed();
    },
    stage: (stage) => {
      if (!current() || entry.stage === stage) return;
      entry.stage = stage;
      entry.meter.reset();
      book.changedNow();
    },
    moved: (bytes) => {
      entry.moved = bytes;
      if (entry.stage !== 'delivering') entry.meter.record(bytes);
      if (current()) book.changed();
    },
    verified: (bytes) => {
      entry.verified = bytes;
    },
    progressed: () => {
      entry.failures = 0;
      if (entry.record.error && current()) book.patch(entry, { error: null });
    },
    fetch: async () => {
      const detail = await reconciler.refresh(entry, link, generation);
      signal.throwIfAborted();
      return detail;
    },
    adopt: (view) => {
      if (current()) reconciler.adopt(entry, view);
    },
    waitForServer: (until) => reconciler.waitFor(entry, link, signal, generation, until),
  };
}
