import { ErrorBodySchema } from '#contract/errors';
import type { TetherBridge, TransferItem } from '#contract/ipc';
import { BridgeError, bridgeToken } from './bridge.ts';

/**
 * Local files in the renderer, which never reads them itself: in Electron a dropped or
 * picked file has a path main can open (the preload's `pathForFile`); in browser mode the
 * file is streamed to the console process first (`PUT /staging/<uuid>`), and a finished
 * download is handed to the browser from `GET /downloads/<id>` — both on the loopback
 * origin the page came from, with this tab's launch token.
 */

/** How `transfers.upload` is to find one file: its path, or the id it was staged under. */
export type UploadSource = { localPath: string } | { stagedId: string };

/** Makes a dropped or picked file available to main; in browser mode this copies it over loopback. */
export async function uploadSourceOf(bridge: TetherBridge, file: File): Promise<UploadSource> {
  const path = bridge.pathForFile?.(file);
  if (path) return { localPath: path };
  const token = bridgeToken();
  if (!token) throw new BridgeError({ code: 'VALIDATION_FAILED', message: 'this file has no path the console can read' });
  const stagedId = crypto.randomUUID();
  const url = `/staging/${stagedId}?token=${encodeURIComponent(token)}&name=${encodeURIComponent(file.name)}`;
  let response: Response;
  try {
    response = await fetch(url, { method: 'PUT', body: file, headers: { 'content-type': 'application/octet-stream' } });
  } catch {
    throw new BridgeError({ code: 'SERVER_UNREACHABLE', message: 'the console process did not take the file; is it still running?' });
  }
  if (!response.ok) {
    const body = ErrorBodySchema.safeParse(await response.json().catch(() => null));
    throw new BridgeError(body.success ? body.data.error : { code: 'INTERNAL', message: `the console process answered ${response.status}` });
  }
  return { stagedId };
}

/** Browser mode: where the browser fetches a finished download; null in Electron (the file is saved already). */
export function downloadHref(item: TransferItem): string | null {
  const token = bridgeToken();
  return token && item.direction === 'from-device' && item.state === 'completed' ? `/downloads/${encodeURIComponent(item.id)}?token=${encodeURIComponent(token)}` : null;
}

/** Browser mode: lets the browser save a finished download, as if the user clicked its link. */
export function saveInBrowser(item: TransferItem): void {
  const href = downloadHref(item);
  if (!href) return;
  const link = document.createElement('a');
  link.href = href;
  link.download = item.localPath?.split(/[\\/]/).pop() ?? item.fileName;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}
