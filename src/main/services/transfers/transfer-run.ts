import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { TransferDetail, TransferView } from '#contract/api/transfers';
import type { TransferStage } from '#contract/ipc';
import type { TransferRecord } from './transfer-store.ts';
import type { ConsoleApi } from '../server-connection.ts';
import type { TusTarget } from './tus-upload.ts';

/** What the transfer engine needs of the console's server connection (ServerConnection is one). */
export interface TransferLink extends TusTarget {
  readonly api: ConsoleApi;
  openStream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ status: number; headers: IncomingHttpHeaders; body: Readable }>;
}

/**
 * One run of one transfer, as the engine hands it to the upload or download procedure:
 * the record to read and update, the link, the stop signal, and the engine's view of
 * the server's side. A run ends by returning (done, or the server said it is done) or by
 * throwing (the engine decides: retry, fail, or nothing when it stopped the run itself).
 */
export interface TransferRun {
  readonly record: TransferRecord;
  readonly link: TransferLink;
  readonly signal: AbortSignal;
  /** Changes the record; `persist` writes it to disk before returning (what a resume needs). */
  update(patch: Partial<TransferRecord>, persist?: boolean): void;
  stage(stage: TransferStage): void;
  /** Total bytes this console moved (hashed, sent or received) in the current stage. */
  moved(bytes: number): void;
  /** Total bytes the receiver verified. */
  verified(bytes: number): void;
  /** A step forward: the count of failures in a row starts again. */
  progressed(): void;
  /** The server's view now (adopted by the engine: a pause or cancel there stops this run). */
  fetch(): Promise<TransferDetail>;
  /** Adopts a view the server answered with. */
  adopt(view: TransferView): void;
  /** Resolves once the server's view satisfies `until` (live events, polling as a fallback). */
  waitForServer(until: (view: TransferView) => boolean): Promise<TransferView>;
}
