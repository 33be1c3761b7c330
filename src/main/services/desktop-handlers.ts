import { TetherError } from '#contract/errors';
import type { IpcOutput } from '#contract/ipc';
import type { HandlerSlice } from '../dispatch.ts';
import { isExternalAllowed } from '../security.ts';
import type { FileDialogs } from './file-dialogs.ts';

export interface DesktopHandlerDeps {
  appInfo: IpcOutput<'app.info'>;
  dialogs: FileDialogs;
  /** Opens a URL in the system browser. */
  openExternal: (url: string) => Promise<void>;
}

/** What the machine the console runs on offers: which app this is, its file pickers, and opening allow-listed links. */
export function desktopHandlers({ appInfo, dialogs, openExternal }: DesktopHandlerDeps): HandlerSlice<'app.' | 'dialog.' | 'shell.'> {
  return {
    'app.info': () => appInfo,
    'dialog.pickFiles': async () => ({ paths: await dialogs.pickFiles() }),
    'dialog.pickFolder': async () => ({ path: await dialogs.pickFolder() }),
    'shell.openExternal': async ({ url }) => {
      if (!isExternalAllowed(url)) throw new TetherError('FORBIDDEN', 'that link is not on the list of pages the console may open');
      await openExternal(url);
      return {};
    },
  };
}
