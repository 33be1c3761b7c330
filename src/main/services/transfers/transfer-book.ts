import { basename, join } from 'node:path';
import { TetherError } from '#contract/errors';
import type { TransferView } from '#contract/api/transfers';
import type { TransferItem } from '#contract/ipc';
import { PARTIAL_SUFFIX, type TransferState, chunksWithin } from '#contract/transfers';
import { removeIfPresent } from './local-files.ts';
import { Throttle } from './progress.ts';
import type { StagingArea } from './staging.ts';
import { type NewTransferFields, type TransferEntry, isTerminal, newTransferEntry, newTransferRecord } from './transfer-entry.ts';
import { byListOrder, transferItemOf } from './transfer-item.ts';
import type { TransferLink } from './transfer-run.ts';
import { type TransferRecord, TransferRecordStore } from './transfer-store.ts';

/** Staged copies nobody's unfinished upload names are removed once older than this. */
const STAGED_ORPHAN_MS = 24 * 3600_000;

/** Where the book keeps its records, whom it tells of changes, and how often. */
export interface TransferBookOptions {
  /** Where the per-transfer records live (`<home>/transfers`). */
  dir: string;
  staging: StagingArea;
  onChange: (items: TransferItem[]) => void;
  /** Progress reaches the renderer at most this often (state changes at once). */
  progressIntervalMs?: number;
  /** A transfer now waits for a run (added, or active again): the scheduler looks for a free slot. */
  onWaiting: () => void;
}

/**
 * The transfers of whoever is signed in, and every change to them: loaded from their
 * records at sign-in, each change that matters for a resume written back at once, the
 * renderer told (progress throttled, state changes at once). Ending a transfer here
 * stops its run and, once the run let go, removes what a canceled one left.
 */
export class TransferBook {
  private currentLink: TransferLink | null = null;
  /** Whose transfers are loaded: the server profile and the user signed in there. */
  private owner: string | null = null;
  /** Bumped on every open/close: a run of an earlier sign-in writes nothing. */
  private currentGeneration = 0;
  private readonly entries = new Map<string, TransferEntry>();
  private readonly store: TransferRecordStore;
  private readonly throttle: Throttle;

  constructor(private readonly options: TransferBookOptions) {
    this.store = new TransferRecordStore(options.dir);
    this.throttle = new Throttle(options.progressIntervalMs ?? 250, () => options.onChange(this.list()));
  }

  /** Loads `owner`'s transfers for a sign-in over `link`; answers the sign-in's generation. */
  open(link: TransferLink, owner: string): number {
    this.close();
    const generation = ++this.currentGeneration;
    this.currentLink = link;
    this.owner = owner;
    const records = this.store.load(owner);
    for (const record of records) this.entries.set(record.id, newTransferEntry(record));
    this.options.staging.sweep(new Set(records.filter((r) => r.source?.staged && !isTerminal(r.state)).map((r) => basename(join(r.source!.path, '..')))), STAGED_ORPHAN_MS);
    this.throttle.flush();
    return generation;
  }

  /** Signed out (or shutting down): every run stops where it is; the records stay for the next sign-in. */
  close(): void {
    this.currentGeneration += 1;
    for (const entry of this.entries.values()) {
      entry.worker?.controller.abort(new TetherError('NOT_SIGNED_IN', 'signed out'));
      if (entry.retryTimer) clearTimeout(entry.retryTimer);
      // a running download saves its count about once a second: the next sign-in lists where it
      // stands (a hint only: the partial file proves itself when the download goes on)
      const { record } = entry;
      if (entry.worker && record.direction === 'from-device' && record.size !== null && !isTerminal(record.state)) {
        entry.record = { ...record, verifiedChunks: Math.max(record.verifiedChunks, chunksWithin(entry.verified, record.size, record.chunkSize)) };
        this.save(entry);
      }
    }
    this.entries.clear();
    this.currentLink = null;
    this.owner = null;
    this.throttle.flush();
  }

  /** The sign-in's link, or null while signed out. */
  get link(): TransferLink | null {
    return this.currentLink;
  }

  get generation(): number {
    return this.currentGeneration;
  }

  /** Whether `generation` is still the sign-in now (a run of an earlier one writes nothing). */
  isCurrent(generation: number): boolean {
    return generation === this.currentGeneration;
  }

  requireLink(): TransferLink {
    if (!this.currentLink) throw new TetherError('NOT_SIGNED_IN', 'sign in first');
    return this.currentLink;
  }

  all(): TransferEntry[] {
    return [...this.entries.values()];
  }

  find(id: string): TransferEntry | undefined {
    return this.entries.get(id);
  }

  get(id: string): TransferEntry {
    const entry = this.entries.get(id);
    if (!entry) throw new TetherError('NOT_FOUND', 'this console has no such transfer');
    return entry;
  }

  byTransferId(transferId: string): TransferEntry | undefined {
    for (const entry of this.entries.values()) if (entry.record.transferId === transferId) return entry;
    return undefined;
  }

  /** Final names held by this console's unfinished downloads (a new download picks another). */
  reservedDestinations(): Set<string> {
    return new Set([...this.entries.values()].filter((e) => !isTerminal(e.record.state) && e.record.destination).map((e) => e.record.destination!));
  }

  /** Running and waiting transfers first (newest first), then the history. */
  list(): TransferItem[] {
    return [...this.entries.values()].map(transferItemOf).sort(byListOrder);
  }

  /** A new transfer, queued and written down; a download passes the server's view it was created with. */
  add(fields: NewTransferFields, view?: TransferView): TransferEntry {
    const entry = newTransferEntry(newTransferRecord(this.owner!, fields, view), view ?? null);
    this.entries.set(entry.record.id, entry);
    this.save(entry);
    this.options.onWaiting();
    this.throttle.flush();
    return entry;
  }

  /** Active again (resumed or retried): running if its run still goes, else queued for a slot. */
  activate(entry: TransferEntry): void {
    this.setState(entry, entry.worker ? 'running' : 'queued', null);
    this.options.onWaiting();
  }

  /** A new state, written down; pausing or ending stops the run and any retry waiting. */
  setState(entry: TransferEntry, state: TransferState, error: TransferRecord['error']): void {
    if (state === 'paused' || isTerminal(state)) {
      entry.worker?.controller.abort(new TetherError('TRANSFER_NOT_ACTIVE', state));
      if (entry.retryTimer) clearTimeout(entry.retryTimer);
      entry.retryTimer = undefined;
      entry.retryAt = null;
      entry.stage = null;
    }
    entry.record = { ...entry.record, state, error, completedAt: isTerminal(state) ? new Date().toISOString() : null };
    this.save(entry);
    this.throttle.flush();
  }

  /**
   * Ends a transfer here: the run stops, and once it has let go of its files a canceled
   * transfer's partial file and any staged copy are removed (a failed one keeps its
   * partial file for a retry).
   */
  conclude(entry: TransferEntry, state: 'completed' | 'failed' | 'canceled', error: TransferRecord['error']): Promise<void> {
    const worker = entry.worker;
    this.setState(entry, state, error);
    const record = entry.record;
    entry.settled = (async () => {
      await worker?.done;
      if (state === 'canceled' && record.destination) await removeIfPresent(record.destination + PARTIAL_SUFFIX).catch(() => undefined);
      if (state !== 'failed' && record.source?.staged) await this.discardStaged(record);
    })();
    return entry.settled;
  }

  /** A staged copy is not needed once its upload is done (best effort: the sweep at sign-in catches the rest). */
  discardStaged(record: TransferRecord): Promise<void> {
    return record.source?.staged ? this.options.staging.discard(record.source.path).catch(() => undefined) : Promise.resolve();
  }

  /** Changes the record, writes it and tells the renderer (throttled). */
  patch(entry: TransferEntry, patch: Partial<TransferRecord>): void {
    entry.record = { ...entry.record, ...patch };
    this.save(entry);
    this.throttle.request();
  }

  /** Writes the record as it is now. */
  save(entry: TransferEntry): void {
    entry.record = { ...entry.record, updatedAt: new Date().toISOString() };
    this.store.save(entry.record);
  }

  /** Something shown changed: the renderer hears of it within the progress interval. */
  changed(): void {
    this.throttle.request();
  }

  /** A state changed: the renderer hears of it now. */
  changedNow(): void {
    this.throttle.flush();
  }
}
