import { basename, resolve } from 'node:path';
import { DEVICE_MODELS } from '#contract/device-models';
import { TetherError } from '#contract/errors';
import type { IpcParsedInput } from '#contract/ipc';
import { checkDevicePath } from '#contract/transfers';
import { safeFileName } from './local-files.ts';
import { statFile } from './manifest.ts';
import type { StagingArea } from './staging.ts';
import type { NewTransferFields } from './transfer-entry.ts';
import type { TransferLink } from './transfer-run.ts';


/**
 * An upload, settled before it enters the list: which local file, where it lands on the
 * device, and whether it can work at all. The server decides only once the whole file
 * was read for its manifest, so what would make that read useless is checked here first
 * — the file larger than the model takes, a path outside its roots, a session that does
 * not allow file work — and refused at once.
 */
export async function planUpload(link: TransferLink, input: IpcParsedInput<'transfers.upload'>, staging: StagingArea): Promise<NewTransferFields> {
  const staged = input.localPath === undefined;
  const sourcePath = staged ? staging.resolve(input.stagedId!) : resolve(input.localPath!);
  const { size } = await statFile(sourcePath);
  const device = await link.api.call('devices.get', { deviceId: input.deviceId });
  const rules = DEVICE_MODELS[device.modelId].files;
  const fileName = safeFileName(basename(sourcePath));
  const devicePath = uploadTarget(input.devicePath, fileName, rules.roots);
  if (size > rules.maxFileBytes) throw new TetherError('FILE_TOO_LARGE', `${fileName} is larger than the ${formatGiB(rules.maxFileBytes)} a ${device.modelName} accepts`);
  await requireFilesSession(link, input.sessionId, input.deviceId);
  return {
    direction: 'to-device',
    deviceId: input.deviceId,
    deviceSerial: device.serial,
    sessionId: input.sessionId,
    fileName,
    devicePath,
    overwrite: input.overwrite,
    source: { path: sourcePath, size: null, mtimeMs: null, staged },
    transferId: null,
    destination: null,
    saveDir: null,
  };
}

/**
 * Where an upload lands on the device: `devicePath` is a folder when it ends in "/" or
 * is one of the model's roots (the file keeps its name there), else the full path.
 * Checked against the roots (PATH_NOT_ALLOWED otherwise).
 */
export function uploadTarget(devicePath: string, fileName: string, roots: readonly string[]): string {
  const trimmed = devicePath.replace(/\/+$/, '');
  const isFolder = devicePath.endsWith('/') || roots.includes(devicePath);
  return checkDevicePath(isFolder ? `${trimmed}/${fileName}` : devicePath, roots);
}

/** The session must be this device's, active, and allow file work. */
async function requireFilesSession(link: TransferLink, sessionId: string, deviceId: string): Promise<void> {
  const session = await link.api.call('sessions.get', { sessionId });
  if (session.deviceId !== deviceId) throw new TetherError('SESSION_NOT_ACTIVE', 'that session belongs to another device');
  if (session.state !== 'active') throw new TetherError('SESSION_NOT_ACTIVE', `the session is ${session.state}`);
  if (!session.scopes.includes('files')) throw new TetherError('SESSION_REQUIRED', 'the session does not include the Files scope');
}

const formatGiB = (bytes: number) => `${Math.round(bytes / 1024 ** 3)} GiB`;
