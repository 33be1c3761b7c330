import { writeFile } from 'node:fs/promises';
import type { BrowserWindow, Dialog } from 'electron';
import type { ReportPdfPrinter } from '../services/preflight-service.ts';
import { REPORT_PDF_OPTIONS } from '../services/preflight/report-html.ts';

type WindowFactory = (options: Electron.BrowserWindowConstructorOptions) => BrowserWindow;

/**
 * Prints a pre-flight report's HTML to PDF in a hidden, sandboxed window with no
 * preload and JavaScript off (the report is self-contained and needs none), then saves
 * it where the user chooses.
 */
export class ElectronReportPrinter implements ReportPdfPrinter {
  constructor(
    private readonly createWindow: WindowFactory,
    private readonly dialog: Dialog,
    private readonly owner: () => BrowserWindow | null,
    private readonly defaultDir: string,
  ) {}

  async savePdf(html: string, suggestedName: string): Promise<string | null> {
    const options = { title: 'Save the pre-flight report', defaultPath: `${this.defaultDir}/${suggestedName}`, filters: [{ name: 'PDF', extensions: ['pdf'] }] };
    const owner = this.owner();
    const choice = owner ? await this.dialog.showSaveDialog(owner, options) : await this.dialog.showSaveDialog(options);
    if (choice.canceled || !choice.filePath) return null;
    const window = this.createWindow({ show: false, webPreferences: { sandbox: true, javascript: false } });
    try {
      await window.loadURL(`data:text/html;charset=utf-8,${encodeURIComponent(html)}`);
      const pdf = await window.webContents.printToPDF(REPORT_PDF_OPTIONS);
      await writeFile(choice.filePath, pdf);
      return choice.filePath;
    } finally {
      window.destroy();
    }
  }
}
