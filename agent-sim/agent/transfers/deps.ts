import type { DeviceFiles } from '../files/types.ts';
import type { LocalAuditFile } from '../local-audit.ts';
import type { TransferClient } from './transfer-client.ts';
import type { TransferStateStore } from './transfer-state.ts';

/** What the sender and receiver work with: the device's files, the server, their saved state, the local audit. */
export interface TransferDeps {
  readonly files: DeviceFiles;
  readonly client: TransferClient;
  readonly state: TransferStateStore;
  readonly audit: Pick<LocalAuditFile, 'append'>;
  /** True once the agent is shutting down: an abort then means "resume later", never "canceled". */
  stopping(): boolean;
}
