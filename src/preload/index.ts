/**
 * The preload: exposes exactly the contract as `window.tether` — `invoke` for the calls of
 * contract/ipc.ts and `on` for its events — and `pathForFile`, the local path of a file
 * the user dropped or picked (so an upload reads it in main; the renderer reads nothing
 * itself). The renderer never sees ipcRenderer. Bundled as one CommonJS file so it runs in
 * the sandbox.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { IPC_CHANNEL, IPC_EVENT_NAMES, type IpcError, type IpcEventName, type TetherBridge } from '#contract/ipc';

type CallResult = { ok: true; output: unknown } | { ok: false; error: IpcError };

const bridge: TetherBridge = {
  async invoke(name, input) {
    const result = (await ipcRenderer.invoke(IPC_CHANNEL.call, name, input)) as CallResult;
    if (!result.ok) throw Object.assign(new Error(result.error.message), result.error);
    return result.output as never;
  },
  on(event, listener) {
    if (!IPC_EVENT_NAMES.includes(event)) throw new Error(`unknown event ${String(event)}`);
    const handler = (_e: IpcRendererEvent, name: IpcEventName, payload: unknown) => {
      if (name === event) listener(payload as never);
    };
    ipcRenderer.on(IPC_CHANNEL.event, handler);
    return () => {
      ipcRenderer.off(IPC_CHANNEL.event, handler);
    };
  },
  pathForFile(file) {
    return webUtils.getPathForFile(file as File);
  },
};

contextBridge.exposeInMainWorld('tether', bridge);
