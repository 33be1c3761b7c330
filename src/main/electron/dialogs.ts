import type { BrowserWindow, Dialog } from 'electron';
import type { FileDialogs } from '../services/file-dialogs.ts';

/** The system's open dialogs for the console's window (files to upload, a folder for downloads). */
export class ElectronDialogs implements FileDialogs {
  constructor(
    private readonly dialog: Dialog,
    private readonly window: () => BrowserWindow | null,
    private readonly defaultPath: string,
  ) {}

  async pickFiles(): Promise<string[]> {
    const options = { title: 'Files to send to the device', properties: ['openFile', 'multiSelections'] as ('openFile' | 'multiSelections')[] };
    const owner = this.window();
    const result = owner ? await this.dialog.showOpenDialog(owner, options) : await this.dialog.showOpenDialog(options);
    return result.canceled ? [] : result.filePaths;
  }

  async pickFolder(): Promise<string | null> {
    const options = { title: 'Save downloads in', defaultPath: this.defaultPath, properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[] };
    const owner = this.window();
    const result = owner ? await this.dialog.showOpenDialog(owner, options) : await this.dialog.showOpenDialog(options);
    return result.canceled ? null : (result.filePaths[0] ?? null);
  }
}
