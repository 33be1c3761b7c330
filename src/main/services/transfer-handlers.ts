import type { HandlerSlice } from '../dispatch.ts';
import type { ConsoleService } from './console-service.ts';
import type { TransferEngine } from './transfers/engine.ts';

/** The server waits up to ~20 s for a device to list a folder: a little longer here. */
const LIST_FILES_TIMEOUT_MS = 30_000;

/**
 * File transfers in a session: the engine's list and its controls, and the device's
 * folders listed so the user can pick what to download.
 */
export function transferHandlers(transfers: TransferEngine, service: Pick<ConsoleService, 'api'>): HandlerSlice<'transfers.' | 'files.'> {
  return {
    'transfers.list': () => ({ items: transfers.list() }),
    'transfers.upload': (input) => transfers.upload(input),
    'transfers.download': async (input) => ({ items: await transfers.download(input) }),
    'transfers.pause': ({ id }) => transfers.pause(id),
    'transfers.resume': ({ id }) => transfers.resume(id),
    'transfers.cancel': ({ id }) => transfers.cancel(id),
    'transfers.retry': ({ id }) => transfers.retry(id),
    'files.list': async ({ deviceId, sessionId, path }) =>
      service.api().call('files.list', { deviceId }, { sessionId, path }, { timeoutMs: LIST_FILES_TIMEOUT_MS }),
  };
}
