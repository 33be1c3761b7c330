import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DeviceDetailSchema } from '#contract/api/fleet';
import type { LiveEvent } from '#contract/api/live';
import { SessionViewSchema } from '#contract/api/sessions';
import { TransferDetailSchema, type TransferDetail, type TransferView, TransferViewSchema } from '#contract/api/transfers';
import { type BackoffPolicy, backoffDelay } from '#contract/backoff';
import { DEVICE_MODELS } from '#contract/device-models';
import { type ErrorCode, TetherError } from '#contract/errors';
import type { IpcParsedInput, TransferItem, TransferStage } from '#contract/ipc';
import { PARTIAL_SUFFIX, TERMINAL_TRANSFER_STATES, TRANSFER_CHUNK_BYTES, type TransferState, baseName, checkDevicePath, chunkRange, chunksWithin } from '#contract/transfers';
import { runDownload } from './download-run.ts';
import { ensureFolder, freeDestination, removeIfPresent, safeFileName } from './local-files.ts';
import { statFile } from './manifest.ts';
import { SpeedMeter, Throttle, etaSeconds } from './progress.ts';
import type { StagingArea } from './staging.ts';
import type { TransferLink, TransferRun } from './transfer-run.ts';
import { type TransferRecord, TransferRecordStore } from './transfer-store.ts';
import { runUpload } from './upload-run.ts';

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
  retry?: BackoffPolicy & { maxAttempts: number };
  /** How often a run waiting on the server asks, when no live event came. */
  pollMs?: number;
  /** Progress reaches the renderer at most this often (state changes at once). */
  progressIntervalMs?: number;
}

/** Failures worth trying again by themselves: the network, a busy or restarting server. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set(['SERVER_UNREACHABLE', 'PROXY_REFUSED', 'RATE_LIMITED', 'INTERNAL', 'CHUNK_NOT_READY', 'CONFLICT', 'TOKEN_EXPIRED']);
/** Answers that mean the server's side changed: look at the transfer again before deciding. */
const ASK_SERVER: ReadonlySet<ErrorCode> = new Set(['TRANSFER_NOT_ACTIVE', 'SESSION_ENDED', 'SESSION_NOT_ACTIVE', 'TRANSFER_EXPIRED']);
/** The console is signed out: its runs stop quietly and resume at the next sign-in. */
const SIGNED_OUT: ReadonlySet<ErrorCode> = new Set(['NOT_SIGNED_IN', 'TOKEN_INVALID', 'REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED', 'ACCOUNT_DISABLED']);

const isTerminal = (state: TransferState) => TERMINAL_TRANSFER_STATES.includes(state);
const isActive = (state: TransferState) => state === 'queued' || state === 'running';
const enc = encodeURIComponent;

interface Entry {
  record: TransferRecord;
  /** The server's latest view (answers and live events; older ones are ignored). */
  server: TransferView | null;
  stage: TransferStage | null;
  moved: number;
  verified: number;
  meter: SpeedMeter;
  /** Automatic retries in a row (reset by progress). */
  failures: number;
  retryAt: number | null;
  retryTimer: NodeJS.Timeout | undefined;
  worker: { controller: AbortController; done: Promise<void> } | undefined;
  /** Runs waiting for the server's view to change. */
  waiters: Set<() => void>;
  /** The clean-up after the transfer ended here (files of a canceled one removed). */
  settled: Promise<void> | undefined;
}

/**
 * The console's side of file transfers: uploads (to-device) and downloads (from-device)
 * run here in the main process, a few at a time per device, with automatic retries after
 * network failures, and survive a console restart (a record per transfer on disk). The
 * server is the authority on a transfer's state: its answers and live events pause,
 * resume, cancel or end the local run. The renderer sees `TransferItem`s, pushed through
 * `onChange` when anything changes (progress throttled).
 */
export class TransferEngine {
  private link: TransferLink | null = null;
  /** Whose transfers are loaded: the server profile and the user signed in there. */
  private owner: string | null = null;
  /** Bumped on every attach/detach: a run of an earlier sign-in writes nothing. */
  private generation = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly store: TransferRecordStore;
  private readonly throttle: Throttle;
  private readonly maxPerDevice: number;
  private readonly retryPolicy: BackoffPolicy & { maxAttempts: number };
  private readonly pollMs: number;

  constructor(private readonly options: TransferEngineOptions) {
    this.store = new TransferRecordStore(options.dir);
    this.throttle = new Throttle(options.progressIntervalMs ?? 250, () => options.onChange(this.list()));
    this.maxPerDevice = options.maxPerDevice ?? 2;
    this.retryPolicy = options.retry ?? { baseMs: 1000, maxMs: 30_000, maxAttempts: 10 };
    this.pollMs = options.pollMs ?? 3000;
  }

  /**
   * Signed in (`owner`: the profile and the user): loads their transfers, asks the server
   * where each stands, and continues the ones that were running when the console stopped.
   */
  async attach(link: TransferLink, owner: string): Promise<void> {
    this.detach();
    const generation = ++this.generation;
    this.link = link;
    this.owner = owner;
    const records = this.store.load(owner);
    for (const record of records) this.entries.set(record.id, this.entryOf(record));
    this.options.staging.sweep(new Set(records.filter((r) => r.source?.staged && !isTerminal(r.state)).map((r) => basename(join(r.source!.path, '..')))), 24 * 3600_000);
    this.throttle.flush();
    await Promise.all(
      [...this.entries.values()]
        .filter((e) => !isTerminal(e.record.state) && e.record.transferId)
        .map(async (entry) => {
          try {
            const detail = await link.call('GET', `/transfers/${enc(entry.record.transferId!)}`, TransferDetailSchema);
            if (generation === this.generation) this.adopt(entry, detail);
          } catch (err) {
            if (generation !== this.generation) return;
            if (err instanceof TetherError && err.code === 'NOT_FOUND') void this.conclude(entry, 'failed', { code: 'NOT_FOUND', message: 'the server no longer has this transfer' });
          }
        }),
    );
    if (generation === this.generation) this.pump();
  }

  /** Signed out (or shutting down): every run stops where it is; the records stay for the next sign-in. */
  detach(): void {
    this.generation += 1;
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
    this.link = null;
    this.owner = null;
    this.throttle.flush();
  }

  /** Live events of the server: a transfer's state and progress. */
  receive(event: LiveEvent): void {
    if (event.type === 'transfer.state') {
      const entry = this.byTransferId(event.transfer.id);
      if (entry) this.adopt(entry, event.transfer);
    } else if (event.type === 'transfer.progress') {
      const entry = this.byTransferId(event.transferId);
      if (!entry?.server) return;
      entry.server = { ...entry.server, uploadedBytes: event.uploadedBytes, deliveredBytes: event.deliveredBytes };
      if (entry.stage === 'delivering') entry.meter.record(event.deliveredBytes);
      this.throttle.request();
    }
  }

  /** Running and waiting transfers first (newest first), then the history. */
  list(): TransferItem[] {
    const items = [...this.entries.values()].map((e) => this.itemOf(e));
    const rank = (i: TransferItem) => (isTerminal(i.state) ? 1 : 0);
    return items.sort((a, b) => rank(a) - rank(b) || (b.completedAt ?? b.createdAt).localeCompare(a.completedAt ?? a.createdAt));
  }

  /** Starts sending a local file (a path, or a staged copy) to a device; hashing and sending go on in the background. */
  async upload(input: IpcParsedInput<'transfers.upload'>): Promise<TransferItem> {
    const link = this.requireLink();
    const staged = input.localPath === undefined;
    const sourcePath = staged ? this.options.staging.resolve(input.stagedId!) : resolve(input.localPath!);
    const { size } = await statFile(sourcePath);
    const device = await link.call('GET', `/devices/${enc(input.deviceId)}`, DeviceDetailSchema);
    const rules = DEVICE_MODELS[device.modelId].files;
    const fileName = safeFileName(basename(sourcePath));
    const devicePath = uploadTarget(input.devicePath, fileName, rules.roots);
    if (size > rules.maxFileBytes) throw new TetherError('FILE_TOO_LARGE', `${fileName} is larger than the ${formatGiB(rules.maxFileBytes)} a ${device.modelName} accepts`);
    await requireFilesSession(link, input.sessionId, input.deviceId);
    const entry = this.add({
      direction: 'to-device',
      deviceId: input.deviceId,
      deviceSerial: device.serial,
      sessionId: input.sessionId,
      fileName,
      devicePath,
      overwrite: input.overwrite,
      source: { path: sourcePath, size: null, mtimeMs: null, staged },
      transferId: null,
      destination: null,
      saveDir: null,
    });
    return this.itemOf(entry);
  }

  /** Starts fetching device files into a folder here, one transfer per file. */
  async download(input: IpcParsedInput<'transfers.download'>): Promise<TransferItem[]> {
    const link = this.requireLink();
    const device = await link.call('GET', `/devices/${enc(input.deviceId)}`, DeviceDetailSchema);
    const roots = DEVICE_MODELS[device.modelId].files.roots;
    for (const path of input.devicePaths) checkDevicePath(path, roots);
    await requireFilesSession(link, input.sessionId, input.deviceId);
    const saveDir = input.saveDir ? resolve(input.saveDir) : this.options.downloadsDir;
    await ensureFolder(saveDir);
    const items: TransferItem[] = [];
    for (const devicePath of input.devicePaths) {
      const view = await link.call('POST', `/devices/${enc(input.deviceId)}/transfers`, TransferViewSchema, { direction: 'from-device', sessionId: input.sessionId, devicePath });
      const entry = this.add(
        {
          direction: 'from-device',
          deviceId: input.deviceId,
          deviceSerial: device.serial,
          sessionId: input.sessionId,
          fileName: baseName(devicePath),
          devicePath,
          overwrite: false,
          source: null,
          transferId: view.id,
          saveDir,
          destination: freeDestination(saveDir, safeFileName(baseName(devicePath)), this.reservedDestinations()),
        },
        view,
      );
      items.push(this.itemOf(entry));
    }
    return items;
  }

  async pause(id: string): Promise<TransferItem> {
    const entry = this.get(id);
    if (!isActive(entry.record.state)) throw new TetherError('TRANSFER_NOT_ACTIVE', `${entry.record.fileName} is ${entry.record.state}; only a running or waiting transfer can be paused`);
    if (entry.record.transferId) {
      this.adopt(entry, await this.requireLink().call('POST', `/transfers/${enc(entry.record.transferId)}/pause`, TransferViewSchema));
    }
    if (isActive(entry.record.state)) this.setState(entry, 'paused', null);
    return this.itemOf(entry);
  }

  async resume(id: string): Promise<TransferItem> {
    const entry = this.get(id);
    if (entry.record.state !== 'paused') throw new TetherError('TRANSFER_NOT_ACTIVE', `${entry.record.fileName} is ${entry.record.state}, not paused`);
    if (entry.record.transferId) {
      this.adopt(entry, await this.requireLink().call('POST', `/transfers/${enc(entry.record.transferId)}/resume`, TransferViewSchema));
    }
    if (entry.record.state === 'paused') this.activate(entry);
    return this.itemOf(entry);
  }

  /** Stops a transfer for good: on the server, here (partial file removed) and — through the server — on the device. */
  async cancel(id: string): Promise<TransferItem> {
    const entry = this.get(id);
    if (entry.record.state === 'completed' || entry.record.state === 'canceled') return this.itemOf(entry);
    if (entry.record.transferId) {
      try {
        this.adopt(entry, await this.requireLink().call('POST', `/transfers/${enc(entry.record.transferId)}/cancel`, TransferViewSchema));
      } catch (err) {
        if (!(err instanceof TetherError) || !['TRANSFER_NOT_ACTIVE', 'NOT_FOUND', 'TRANSFER_EXPIRED'].includes(err.code)) throw err;
      }
    }
    // the server may have finished it first; its answer was adopted above
    if (!isTerminal(this.stateOf(entry)) || this.stateOf(entry) === 'failed') await this.conclude(entry, 'canceled', null);
    else await entry.settled;
    return this.itemOf(entry);
  }

  /** Tries a failed transfer again, from the last chunk the receiver verified. */
  async retry(id: string): Promise<TransferItem> {
    const entry = this.get(id);
    if (entry.record.state !== 'failed') throw new TetherError('TRANSFER_NOT_ACTIVE', `${entry.record.fileName} is ${entry.record.state}; only a failed transfer can be retried`);
    const transferId = entry.record.transferId;
    if (transferId) {
      const link = this.requireLink();
      let view: TransferView = await link.call('GET', `/transfers/${enc(transferId)}`, TransferDetailSchema);
      if (view.state === 'failed') view = await link.call('POST', `/transfers/${enc(transferId)}/retry`, TransferViewSchema);
      else if (view.state === 'paused') view = await link.call('POST', `/transfers/${enc(transferId)}/resume`, TransferViewSchema);
      else if (view.state === 'canceled' || view.state === 'completed') {
        this.adopt(entry, view);
        throw new TetherError('TRANSFER_NOT_ACTIVE', `the server ended this transfer (${view.state}); start it again`);
      }
      entry.server = view;
    }
    entry.failures = 0;
    this.activate(entry);
    return this.itemOf(entry);
  }

  /** A finished download, for browser mode to hand to the browser. */
  downloadedFile(id: string): { path: string; fileName: string } {
    const entry = this.entries.get(id);
    const path = entry?.record.direction === 'from-device' && entry.record.state === 'completed' ? entry.record.finalPath : null;
    if (!path || !existsSync(path)) throw new TetherError('FILE_NOT_FOUND', 'that download is not here (not finished, or moved away)');
    return { path, fileName: basename(path) };
  }

  // ---- the runs ---------------------------------------------------------------------

  /** Starts waiting transfers while their device has a free slot here. */
  private pump(): void {
    if (!this.link) return;
    const busy = new Map<string, number>();
    for (const e of this.entries.values()) if (e.worker) busy.set(e.record.deviceId, (busy.get(e.record.deviceId) ?? 0) + 1);
    const waiting = [...this.entries.values()].filter((e) => isActive(e.record.state) && !e.worker && !e.retryTimer).sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
    for (const entry of waiting) {
      const count = busy.get(entry.record.deviceId) ?? 0;
      if (count >= this.maxPerDevice) continue;
      busy.set(entry.record.deviceId, count + 1);
      this.start(entry);
    }
  }

  private start(entry: Entry): void {
    const link = this.link!;
    const generation = this.generation;
    const controller = new AbortController();
    const run = this.runOf(entry, link, controller.signal, generation);
    entry.retryAt = null;
    entry.stage = null;
    entry.meter.reset();
    if (entry.record.state === 'queued') this.setState(entry, 'running', null);
    const procedure = entry.record.direction === 'to-device' ? runUpload : runDownload;
    const done = procedure(run).then(
      () => this.runEnded(entry, controller, generation, undefined),
      (err: unknown) => this.runEnded(entry, controller, generation, err),
    );
    entry.worker = { controller, done };
    this.throttle.flush();
  }

  private async runEnded(entry: Entry, controller: AbortController, generation: number, err: unknown): Promise<void> {
    if (entry.worker?.controller === controller) entry.worker = undefined;
    entry.stage = null;
    if (generation !== this.generation) return;
    if (controller.signal.aborted) {
      // whoever stopped the run has set the state already; a resume may be waiting for the slot
    } else if (err === undefined) {
      if (!isTerminal(entry.record.state)) this.setState(entry, 'completed', null);
      if (entry.record.source?.staged) await this.options.staging.discard(entry.record.source.path).catch(() => undefined);
    } else {
      await this.failed(entry, toTetherError(err), generation);
    }
    if (generation !== this.generation) return;
    this.pump();
    this.throttle.flush();
  }

  /** A run failed: ask the server when it may know better, retry what is transient, else fail. */
  private async failed(entry: Entry, error: TetherError, generation: number): Promise<void> {
    if (SIGNED_OUT.has(error.code)) return;
    const link = this.link;
    if (ASK_SERVER.has(error.code) && entry.record.transferId && link) {
      try {
        const view = await link.call('GET', `/transfers/${enc(entry.record.transferId)}`, TransferDetailSchema);
        if (generation !== this.generation) return;
        this.adopt(entry, view);
        if (!isActive(view.state)) return;
      } catch {
        // the server cannot say now: treated as the network failure it probably is
      }
    }
    if (generation !== this.generation || !isActive(entry.record.state)) return;
    const transient = TRANSIENT.has(error.code) || ASK_SERVER.has(error.code);
    if (transient && entry.failures < this.retryPolicy.maxAttempts) {
      const delay = Math.max(250, backoffDelay(this.retryPolicy, entry.failures));
      entry.failures += 1;
      entry.record = { ...entry.record, attempts: entry.record.attempts + 1, error: { code: error.code, message: error.message } };
      entry.retryAt = Date.now() + delay;
      entry.stage = 'retrying';
      this.save(entry);
      entry.retryTimer = setTimeout(() => {
        entry.retryTimer = undefined;
        entry.retryAt = null;
        this.pump();
      }, delay);
      entry.retryTimer.unref();
      return;
    }
    void this.conclude(entry, 'failed', { code: error.code, message: error.message });
    // the server keeps its slot for a transfer it thinks runs: pause it there (best effort; retry resumes it)
    if (entry.record.transferId && link && entry.server && isActive(entry.server.state)) {
      await link.call('POST', `/transfers/${enc(entry.record.transferId)}/pause`, TransferViewSchema).then(
        (view) => {
          if (generation === this.generation) entry.server = view;
        },
        () => undefined,
      );
    }
  }

  private runOf(entry: Entry, link: TransferLink, signal: AbortSignal, generation: number): TransferRun {
    const current = () => generation === this.generation;
    return {
      get record() {
        return entry.record;
      },
      link,
      signal,
      update: (patch, persist = false) => {
        if (!current()) return;
        entry.record = { ...entry.record, ...patch };
        if (persist) this.save(entry);
        this.throttle.request();
      },
      stage: (stage) => {
        if (!current() || entry.stage === stage) return;
        entry.stage = stage;
        entry.meter.reset();
        this.throttle.flush();
      },
      moved: (bytes) => {
        entry.moved = bytes;
        if (entry.stage !== 'delivering') entry.meter.record(bytes);
        if (current()) this.throttle.request();
      },
      verified: (bytes) => {
        entry.verified = bytes;
      },
      progressed: () => {
        entry.failures = 0;
        if (entry.record.error && current()) this.patch(entry, { error: null });
      },
      fetch: async () => {
        const detail: TransferDetail = await link.call('GET', `/transfers/${enc(entry.record.transferId!)}`, TransferDetailSchema);
        if (current()) this.adopt(entry, detail);
        signal.throwIfAborted();
        return detail;
      },
      adopt: (view) => {
        if (current()) this.adopt(entry, view);
      },
      waitForServer: async (until) => {
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
          if (!woken && entry.record.transferId) {
            const detail = await link.call('GET', `/transfers/${enc(entry.record.transferId)}`, TransferDetailSchema);
            if (current()) this.adopt(entry, detail);
          }
        }
      },
    };
  }

  // ---- the server's word --------------------------------------------------------------

  /**
   * Takes the server's view of a transfer (an answer or a live event) unless an earlier
   * one: a pause, cancel or failure there stops the run here; a resume starts it again.
   * A local failure stays until the user retries; a local end is final.
   */
  private adopt(entry: Entry, view: TransferView): void {
    if (entry.server && Date.parse(view.updatedAt) < Date.parse(entry.server.updatedAt)) return;
    entry.server = view;
    const record = entry.record;
    if (view.size !== null && record.size === null) entry.record = { ...record, size: view.size, sha256: view.sha256 };
    for (const wake of [...entry.waiters]) wake();
    const local = entry.record.state;
    if (local === 'completed' || local === 'canceled') {
      this.throttle.request();
      return;
    }
    switch (view.state) {
      case 'completed':
        // an upload is done when the device has it; a download once its file is in place here
        if (record.direction === 'to-device' || entry.record.finalPath) void this.conclude(entry, 'completed', null);
        break;
      case 'canceled':
        void this.conclude(entry, 'canceled', view.error);
        break;
      case 'failed':
        if (local !== 'failed') void this.conclude(entry, 'failed', view.error ?? { code: 'COMMAND_FAILED', message: 'the transfer failed on the server' });
        break;
      case 'paused':
        if (isActive(local)) this.setState(entry, 'paused', null);
        break;
      case 'queued':
      case 'running':
        if (local === 'paused') this.activate(entry);
        break;
    }
    this.throttle.request();
  }

  // ---- state ----------------------------------------------------------------------------

  private add(fields: Pick<TransferRecord, 'direction' | 'deviceId' | 'deviceSerial' | 'sessionId' | 'fileName' | 'devicePath' | 'overwrite' | 'source' | 'transferId' | 'destination' | 'saveDir'>, view?: TransferView): Entry {
    const now = new Date().toISOString();
    const record: TransferRecord = {
      version: 1,
      id: randomUUID(),
      owner: this.owner!,
      ...fields,
      uploadUrl: null,
      verifiedChunks: 0,
      finalPath: null,
      state: 'queued',
      size: view?.size ?? null,
      sha256: view?.sha256 ?? null,
      chunkSize: view?.chunkSize ?? TRANSFER_CHUNK_BYTES,
      error: null,
      attempts: 0,
      createdAt: now,
      updatedAt: now,
      completedAt: null,
    };
    const entry = this.entryOf(record);
    entry.server = view ?? null;
    this.entries.set(record.id, entry);
    this.save(entry);
    this.pump();
    this.throttle.flush();
    return entry;
  }

  private entryOf(record: TransferRecord): Entry {
    const verified = record.size === null || record.verifiedChunks === 0 ? 0 : chunkRange(record.verifiedChunks - 1, record.size, record.chunkSize).end;
    return { record, server: null, stage: null, moved: verified, verified, meter: new SpeedMeter(), failures: 0, retryAt: null, retryTimer: undefined, worker: undefined, waiters: new Set(), settled: undefined };
  }

  private activate(entry: Entry): void {
    this.setState(entry, entry.worker ? 'running' : 'queued', null);
    this.pump();
  }

  private setState(entry: Entry, state: TransferState, error: TransferRecord['error']): void {
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
  private conclude(entry: Entry, state: 'completed' | 'failed' | 'canceled', error: TransferRecord['error']): Promise<void> {
    const worker = entry.worker;
    this.setState(entry, state, error);
    const record = entry.record;
    entry.settled = (async () => {
      await worker?.done;
      if (state === 'canceled' && record.destination) await removeIfPresent(record.destination + PARTIAL_SUFFIX).catch(() => undefined);
      if (state !== 'failed' && record.source?.staged) await this.options.staging.discard(record.source.path).catch(() => undefined);
    })();
    return entry.settled;
  }

  private patch(entry: Entry, patch: Partial<TransferRecord>): void {
    entry.record = { ...entry.record, ...patch };
    this.save(entry);
    this.throttle.request();
  }

  private save(entry: Entry): void {
    entry.record = { ...entry.record, updatedAt: new Date().toISOString() };
    this.store.save(entry.record);
  }

  private itemOf(entry: Entry): TransferItem {
    const r = entry.record;
    const size = r.size ?? entry.server?.size ?? null;
    const done = r.state === 'completed';
    const upload = r.direction === 'to-device';
    const bytesDone = done ? (size ?? 0) : upload ? (entry.server?.deliveredBytes ?? 0) : entry.verified;
    const bytesMoved = done ? (size ?? 0) : entry.worker ? entry.moved : upload ? (entry.server?.uploadedBytes ?? 0) : entry.verified;
    const speed = entry.worker && isActive(r.state) ? entry.meter.bytesPerSecond() : 0;
    const tracked = entry.stage === 'delivering' ? bytesDone : bytesMoved;
    let state: TransferState = r.state;
    if (isActive(r.state)) state = entry.worker ? (entry.server?.state === 'queued' ? 'queued' : 'running') : entry.retryTimer ? 'running' : 'queued';
    return {
      id: r.id,
      transferId: r.transferId,
      deviceId: r.deviceId,
      deviceSerial: r.deviceSerial,
      sessionId: r.sessionId,
      direction: r.direction,
      fileName: r.fileName,
      devicePath: r.devicePath,
      localPath: upload ? (r.source && !r.source.staged ? r.source.path : null) : r.state === 'completed' ? r.finalPath : null,
      state,
      stage: isActive(r.state) ? (entry.retryTimer ? 'retrying' : entry.stage) : null,
      size,
      sha256: r.sha256 ?? entry.server?.sha256 ?? null,
      bytesDone: Math.min(bytesDone, size ?? bytesDone),
      bytesMoved: Math.min(bytesMoved, size ?? bytesMoved),
      speed,
      etaSeconds: isActive(r.state) && entry.stage !== 'preparing' ? etaSeconds(size, tracked, speed) : null,
      error: r.error,
      attempts: r.attempts,
      nextRetryAt: entry.retryAt ? new Date(entry.retryAt).toISOString() : null,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      completedAt: r.completedAt,
    };
  }

  /** The state now (read through a call: TypeScript keeps a narrowing of `entry.record.state` across awaits). */
  private stateOf(entry: Entry): TransferState {
    return entry.record.state;
  }

  private get(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new TetherError('NOT_FOUND', 'this console has no such transfer');
    return entry;
  }

  private byTransferId(transferId: string): Entry | undefined {
    for (const entry of this.entries.values()) if (entry.record.transferId === transferId) return entry;
    return undefined;
  }

  private reservedDestinations(): Set<string> {
    return new Set([...this.entries.values()].filter((e) => !isTerminal(e.record.state) && e.record.destination).map((e) => e.record.destination!));
  }

  private requireLink(): TransferLink {
    if (!this.link) throw new TetherError('NOT_SIGNED_IN', 'sign in first');
    return this.link;
  }
}

/**
 * Where an upload lands on the device: `devicePath` is a folder when it ends in "/" or
 * is one of the model's roots (the file keeps its name there), else the full path.
 * Checked against the roots (PATH_NOT_ALLOWED otherwise).
 */
export function uploadTarget(devicePath: string, fileName: string, roots: readonly string[]): string {
  const trimmed = devicePath.replace(/\/+$/, '');
  const isFolder = devicePath.endsWith('/') || roots.includes(devicePath);
  return checkDevicePath(isFolder ? `${trimmed}/${fileName}` : devicePath, roots);
}

/** The session must be this device's, active, and allow file work. */
async function requireFilesSession(link: TransferLink, sessionId: string, deviceId: string): Promise<void> {
  const session = await link.call('GET', `/sessions/${enc(sessionId)}`, SessionViewSchema);
  if (session.deviceId !== deviceId) throw new TetherError('SESSION_NOT_ACTIVE', 'that session belongs to another device');
  if (session.state !== 'active') throw new TetherError('SESSION_NOT_ACTIVE', `the session is ${session.state}`);
  if (!session.scopes.includes('files')) throw new TetherError('SESSION_REQUIRED', 'the session does not include the Files scope');
}

/** Anything a run threw, as a TetherError (a local file failure keeps its system message). */
function toTetherError(err: unknown): TetherError {
  if (err instanceof TetherError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC') return new TetherError('FILE_TOO_LARGE', 'the disk of this computer is full');
  if (e?.code === 'ENOENT') return new TetherError('FILE_NOT_FOUND', e.message);
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return new TetherError('FORBIDDEN', `this console may not write there: ${e.message}`);
  return new TetherError('INTERNAL', e?.message ?? String(err));
}

const formatGiB = (bytes: number) => `${Math.round(bytes / 1024 ** 3)} GiB`;
