import type { TransferView } from '#contract/api/transfers';
import { TetherError } from '#contract/errors';
import { computeManifest, statFile } from './manifest.ts';
import type { TransferRun } from './transfer-run.ts';
import { tusUpload } from './tus-upload.ts';


/**
 * Sends a local file to the device (to-device): one read pass declares it (manifest),
 * the server creates the transfer, then tus moves it chunk by chunk; the device receives
 * and verifies it on its own schedule, and the run ends when the server says the device
 * has the whole file. After a stop it continues from the server's offset — if the file
 * is still the one that was declared.
 */
export async function runUpload(run: TransferRun): Promise<void> {
  const { link, signal } = run;
  const source = run.record.source;
  if (!source) throw new TetherError('INTERNAL', 'an upload needs its source file');

  if (!run.record.transferId) {
    run.stage('preparing');
    run.moved(0);
    const { manifest, mtimeMs } = await computeManifest(source.path, { signal, chunkSize: run.record.chunkSize, onProgress: (bytes) => run.moved(bytes) });
    run.update({ size: manifest.size, sha256: manifest.sha256, source: { ...source, size: manifest.size, mtimeMs } }, true);
    signal.throwIfAborted();
    const view = await link.api.call('transfers.create', { deviceId: run.record.deviceId }, {
      direction: 'to-device',
      sessionId: run.record.sessionId,
      devicePath: run.record.devicePath,
      fileName: run.record.fileName,
      overwrite: run.record.overwrite,
      manifest,
    });
    run.update({ transferId: view.id, chunkSize: view.chunkSize }, true);
    run.adopt(view);
  } else {
    const now = await statFile(source.path);
    if (now.size !== source.size || now.mtimeMs !== source.mtimeMs) {
      // the manifest no longer describes it: sending on would only fail at the device
      throw new TetherError('CHECKSUM_MISMATCH', `${run.record.fileName} changed on this computer since it was declared; start a new upload`);
    }
  }
  const transferId = run.record.transferId!;
  let view: TransferView = await run.fetch();
  if (view.state === 'queued') {
    run.stage('waiting');
    view = await run.waitForServer((v) => v.state !== 'queued');
  }
  const size = run.record.size ?? 0;
  if (view.uploadedBytes < size) {
    run.stage('uploading');
    run.moved(view.uploadedBytes);
    await tusUpload({
      target: link,
      transferId,
      path: source.path,
      size,
      chunkSize: run.record.chunkSize,
      signal,
      onProgress: (bytes) => run.moved(bytes),
      onUrl: (url) => {
        if (url !== run.record.uploadUrl) run.update({ uploadUrl: url }, true);
      },
    });
  }
  run.stage('delivering');
  run.moved(size);
  run.progressed();
  await run.waitForServer((v) => v.state === 'completed');
}
