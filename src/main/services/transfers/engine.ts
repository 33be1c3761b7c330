import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { LiveEvent } from '#contract/api/live';
import type { TransferView } from '#contract/api/transfers';
import { TetherError } from '#contract/errors';
import type { IpcParsedInput, TransferItem } from '#contract/ipc';
import { type TransferState, baseName } from '#contract/transfers';
import { ensureFolder, freeDestination, safeFileName } from './local-files.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-rules.ts';
import { ServerReconciler } from './server-reconciler.ts';
import type { StagingArea } from './staging.ts';
import { TransferBook } from './transfer-book.ts';
import { type TransferEntry, isActive, isTerminal } from './transfer-entry.ts';
import { transferItemOf } from './transfer-item.ts';
import type { TransferLink } from './transfer-run.ts';
import { TransferScheduler } from './transfer-scheduler.ts';
import { planUpload } from './upload-plan.ts';


export interface TransferEngineOptions {
  /** Where the per-transfer records live (`<home>/transfers`). */
  dir: string;
  staging: StagingArea;
  /** Where downloads go when the caller names no folder. */
  downloadsDir: string;
  onChange: (items: TransferItem[]) => void;
  /** Transfers this console works on at once per device (the server has its own limits too). */
  maxPerDevice?: number;
  /** Automatic retries after network failures, in a row, before the transfer fails. */
  retry?: RetryPolicy;
  /** How often a run waiting on the server asks, when no live event came. */
  pollMs?: number;
  /** Progress reaches the renderer at most this often (state changes at once). */
  progressIntervalMs?: number;
}

/**
 * The console's side of file transfers: uploads (to-device) and downloads (from-device)
 * run here in the main process, a few at a time per device, with automatic retries after
 * network failures, and survive a console restart (a record per transfer on disk). The
 * server is the authority on a transfer's state: its answers and live events pause,
 * resume, cancel or end the local run. The renderer sees `TransferItem`s, pushed through
 * `onChange` when anything changes (progress throttled).
 *
 * This class is the face the rest of the console uses; the book keeps the transfers and
 * their records, the scheduler runs them, the reconciler keeps them in step with the server.
 */
export class TransferEngine {
  private readonly book: TransferBook;
  private readonly reconciler: ServerReconciler;
  private readonly scheduler: TransferScheduler;

  constructor(private readonly options: TransferEngineOptions) {
    this.book = new TransferBook({
      dir: options.dir,
      staging: options.staging,
      onChange: options.onChange,
      progressIntervalMs: options.progressIntervalMs,
      onWaiting: () => this.scheduler.pump(),
    });
    this.reconciler = new ServerReconciler(this.book, options.pollMs ?? 3000);
    this.scheduler = new TransferScheduler(this.book, this.reconciler, options.maxPerDevice ?? 2, options.retry ?? DEFAULT_RETRY_POLICY);
  }

  /**
   * Signed in (`owner`: the profile and the user): loads their transfers, asks the server
   * where each stands, and continues the ones that were running when the console stopped.
   */
  async attach(link: TransferLink, owner: string): Promise<void> {
    const generation = this.book.open(link, owner);
    await this.reconciler.catchUp(link, generation);
    if (this.book.isCurrent(generation)) this.scheduler.pump();
  }

  /** Signed out (or shutting down): every run stops where it is; the records stay for the next sign-in. */
  detach(): void {
    this.book.close();
  }

  /** Live events of the server: a transfer's state and progress. */
  receive(event: LiveEvent): void {
    this.reconciler.receive(event);
  }

  /** Running and waiting transfers first (newest first), then the history. */
  list(): TransferItem[] {
    return this.book.list();
  }

  /** Starts sending a local file (a path, or a staged copy) to a device; hashing and sending go on in the background. */
  async upload(input: IpcParsedInput<'transfers.upload'>): Promise<TransferItem> {
    const fields = await planUpload(this.book.requireLink(), input, this.options.staging);
    return transferItemOf(this.book.add(fields));
  }

  /**
   * Starts fetching device files into a folder here, one transfer per file. The server
   * decides whether each may be fetched (the path inside the model's roots, the session
   * active and allowing file work) and its refusal is the answer; the files it accepted
   * before refusing one are fetched and listed.
   */
  async download(input: IpcParsedInput<'transfers.download'>): Promise<TransferItem[]> {
    const link = this.book.requireLink();
    const saveDir = input.saveDir ? resolve(input.saveDir) : this.options.downloadsDir;
    await ensureFolder(saveDir);
    const items: TransferItem[] = [];
    for (const devicePath of input.devicePaths) {
      const view = await link.api.call('transfers.create', { deviceId: input.deviceId }, { direction: 'from-device', sessionId: input.sessionId, devicePath });
      const entry = this.book.add(
        {
          direction: 'from-device',
          deviceId: input.deviceId,
          deviceSerial: view.deviceSerial,
          sessionId: input.sessionId,
          fileName: baseName(devicePath),
          devicePath,
          overwrite: false,
          source: null,
          transferId: view.id,
          saveDir,
          destination: freeDestination(saveDir, safeFileName(baseName(devicePath)), this.book.reservedDestinations()),
        },
        view,
      );
      items.push(transferItemOf(entry));
    }
    return items;
  }

  async pause(id: string): Promise<TransferItem> {
    const entry = this.book.get(id);
    if (!isActive(entry.record.state)) throw new TetherError('TRANSFER_NOT_ACTIVE', `${entry.record.fileName} is ${entry.record.state}; only a running or waiting transfer can be paused`);
    if (entry.record.transferId) {
      this.reconciler.adopt(entry, await this.book.requireLink().api.call('transfers.pause', { transferId: entry.record.transferId }));
    }
    if (isActive(entry.record.state)) this.book.setState(entry, 'paused', null);
    return transferItemOf(entry);
  }

  async resume(id: string): Promise<TransferItem> {
    const entry = this.book.get(id);
    if (entry.record.state !== 'paused') throw new TetherError('TRANSFER_NOT_ACTIVE', `${entry.record.fileName} is ${entry.record.state}, not paused`);
    if (entry.record.transferId) {
      this.reconciler.adopt(entry, await this.book.requireLink().api.call('transfers.resume', { transferId: entry.record.transferId }));
    }
    if (entry.record.state === 'paused') this.book.activate(entry);
    return transferItemOf(entry);
  }

  /** Stops a transfer for good: on the server, here (partial file removed) and — through the server — on the device. */
  async cancel(id: string): Promise<TransferItem> {
    const entry = this.book.get(id);
    if (entry.record.state === 'completed' || entry.record.state === 'canceled') return transferItemOf(entry);
    if (entry.record.transferId) {
      try {
        this.reconciler.adopt(entry, await this.book.requireLink().api.call('transfers.cancel', { transferId: entry.record.transferId }));
      } catch (err) {
        if (!(err instanceof TetherError) || !['TRANSFER_NOT_ACTIVE', 'NOT_FOUND', 'TRANSFER_EXPIRED'].includes(err.code)) throw err;
      }
    }
    // the server may have finished it first; its answer was adopted above
    if (!isTerminal(stateOf(entry)) || stateOf(entry) === 'failed') await this.book.conclude(entry, 'canceled', null);
    else await entry.settled;
    return transferItemOf(entry);
  }

  /** Tries a failed transfer again, from the last chunk the receiver verified. */
  async retry(id: string): Promise<TransferItem> {
    const entry = this.book.get(id);
    if (entry.record.state !== 'failed') throw new TetherError('TRANSFER_NOT_ACTIVE', `${entry.record.fileName} is ${entry.record.state}; only a failed transfer can be retried`);
    const transferId = entry.record.transferId;
    if (transferId) {
      const link = this.book.requireLink();
      let view: TransferView = await link.api.call('transfers.get', { transferId });
      if (view.state === 'failed') view = await link.api.call('transfers.retry', { transferId });
      else if (view.state === 'paused') view = await link.api.call('transfers.resume', { transferId });
      else if (view.state === 'canceled' || view.state === 'completed') {
        this.reconciler.adopt(entry, view);
        throw new TetherError('TRANSFER_NOT_ACTIVE', `the server ended this transfer (${view.state}); start it again`);
      }
      entry.server = view;
    }
    entry.failures = 0;
    this.book.activate(entry);
    return transferItemOf(entry);
  }

  /** A finished download, for browser mode to hand to the browser. */
  downloadedFile(id: string): { path: string; fileName: string } {
    const entry = this.book.find(id);
    const path = entry?.record.direction === 'from-device' && entry.record.state === 'completed' ? entry.record.finalPath : null;
    if (!path || !existsSync(path)) throw new TetherError('FILE_NOT_FOUND', 'that download is not here (not finished, or moved away)');
    return { path, fileName: basename(path) };
  }
}

/** The state now (read through a call: TypeScript keeps a narrowing of `entry.record.state` across awaits). */
function stateOf(entry: TransferEntry): TransferState {
  return entry.record.state;
}
