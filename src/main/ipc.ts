import { IPC_CHANNEL } from '#contract/ipc';
import { type IpcHandlers, dispatchCall } from './dispatch.ts';

/**
 * The parts of Electron's ipcMain the binder uses, as structural types so this file
 * stays free of the `electron` import (only src/main/index.ts wires the real one).
 */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

export interface IpcInvokeEventLike {
  /** The frame that sent the call; null once it navigated away or was destroyed. */
  senderFrame: { url: string; parent: unknown } | null;
}

/**
 * Binds the whole contract to Electron IPC with one handler: a call is refused unless it
 * comes from the app's own top-level frame (not a sub-frame, not a page that navigated
 * elsewhere), names a call of the table, and carries a valid payload.
 */
export function bindIpcMain(
  ipcMain: IpcMainLike,
  handlers: IpcHandlers,
  isAppUrl: (url: string) => boolean,
  onInternalError?: (err: unknown, call: string) => void,
): () => void {
  ipcMain.handle(IPC_CHANNEL.call, async (event, call, input) => {
    const frame = event.senderFrame;
    if (!frame || frame.parent !== null) {
      return { ok: false, error: { code: 'SENDER_REJECTED', message: 'calls are accepted only from the main window' } };
    }
    if (!isAppUrl(frame.url)) {
      return { ok: false, error: { code: 'SENDER_REJECTED', message: 'calls are accepted only from the app itself' } };
    }
    return dispatchCall(handlers, call, input, onInternalError);
  });
  return () => ipcMain.removeHandler(IPC_CHANNEL.call);
}
