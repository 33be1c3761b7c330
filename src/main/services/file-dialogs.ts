/**
 * The system's file and folder pickers, as the transfer calls need them. Electron's
 * dialogs implement it (src/main/electron/dialogs.ts); browser mode has no native dialog
 * in the console process, so the page uses its own file input and downloads go to the
 * console's downloads folder, from where the browser fetches them.
 */
export interface FileDialogs {
  /** Files to upload; empty when the user canceled. */
  pickFiles(): Promise<string[]>;
  /** A folder to save downloads in; null when the user canceled. */
  pickFolder(): Promise<string | null>;
}

/** Browser mode: no native pickers; the folder is always the console's downloads folder. */
export function browserModeDialogs(downloadsDir: string): FileDialogs {
  return {
    pickFiles: async () => [],
    pickFolder: async () => downloadsDir,
  };
}
