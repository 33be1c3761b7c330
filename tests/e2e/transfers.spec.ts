import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { SCREENSHOTS, expect, test, openSimulatorDevice } from './console.ts';

/**
 * File transfers in the real console (browser mode) against the real offline simulator:
 * a session with the Files scope approved at the device, browsing its folders, a log
 * downloaded into the browser's own downloads, files uploaded with the picker and by
 * dropping them, and a transfer paused, resumed and another canceled from the Transfers
 * panel. The simulator's server caps transfer content at 1 MiB/s, so a few MiB take long
 * enough to act on.
 */
test.describe.configure({ mode: 'serial' });

test.use({ consoleEnv: { TETHER_SIM_CONSENT_TIMEOUT_SECONDS: '60', TETHER_SIM_TRANSFER_BYTES_PER_SEC: String(1024 * 1024) } });

const DEVICE = 'SFX-US00001';
const TRAINEE = 'Simulator Trainee';

let page: Page;
let deviceFiles: string;

const notification = (text: string | RegExp): Locator => page.getByRole('status').filter({ hasText: text });
const filesPanel = (): Locator => page.getByRole('tabpanel', { name: 'Files' });
const folderTable = (path: string): Locator => page.getByRole('table', { name: `Contents of ${path}` });
const drawer = (): Locator => page.getByRole('dialog', { name: 'Transfers' });
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function openTab(name: string): Promise<void> {
  await page.getByRole('tab', { name, exact: true }).click();
}

/** Dismisses every notification on screen (for a clean screenshot). */
async function dismissNotifications(): Promise<void> {
  const dismiss = page.getByRole('button', { name: 'Dismiss notification' });
  await expect(async () => {
    if ((await dismiss.count()) > 0) await dismiss.first().click({ timeout: 1000 });
    expect(await dismiss.count()).toBe(0);
  }).toPass();
}

/** Picks files in the Upload… picker (browser mode: the page's own file input). */
async function pickFiles(files: { name: string; buffer: Buffer }[]): Promise<void> {
  await filesPanel().getByLabel('Files to upload').setInputFiles(files.map((f) => ({ ...f, mimeType: 'application/octet-stream' })));
}

test.beforeAll(async ({ browser, consoleApp }) => {
  deviceFiles = join(consoleApp.home, 'simulator', 'agents', DEVICE, 'device-files');
  page = await browser.newPage({ acceptDownloads: true });
  await openSimulatorDevice(page, consoleApp.url, 6, DEVICE);
});

test('without a session the Files tab says why, and asks for one with the Files scope', async () => {
  await openTab('Files');
  await expect(filesPanel()).toContainText('needs an active service session with the Files scope');
  await page.screenshot({ path: `${SCREENSHOTS}/files-no-session.png` });
  await filesPanel().getByRole('button', { name: 'Request session' }).click();
  const dialog = page.getByRole('dialog', { name: 'Request a service session' });
  await expect(dialog.getByRole('checkbox', { name: 'Files' })).toBeChecked();
  await expect(dialog.getByRole('checkbox', { name: 'Diagnose' })).not.toBeChecked();
  await dialog.getByLabel('Reason or ticket number').fill('INC-31001 collect logs, load a new calibration');
  await dialog.getByLabel('Reason or ticket number').press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(filesPanel()).toContainText('Waiting for the customer’s consent');

  await openTab('Device panel');
  await page.getByRole('button', { name: `Approve consent for ${TRAINEE}` }).click();
  await expect(notification(/^Consent granted by/)).toBeVisible();
  await openTab('Files');
  const roots = folderTable('/');
  await expect(roots.getByRole('button', { name: /^Open folder/ })).toHaveText(['config', 'logs', 'service']);
});

test('browses /logs and downloads a log: the browser saves it, verified against the device', async () => {
  await folderTable('/').getByRole('button', { name: 'Open folder logs' }).click();
  const logs = folderTable('/logs');
  await expect(logs.getByRole('checkbox', { name: 'Select system.log', exact: true })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Folder' })).toContainText('logs');
  await dismissNotifications();
  await page.screenshot({ path: `${SCREENSHOTS}/files-logs.png` });

  await logs.getByRole('checkbox', { name: 'Select system.log', exact: true }).check();
  const saved = page.waitForEvent('download', { timeout: 60_000 });
  await filesPanel().getByRole('button', { name: 'Download selected (1)' }).click();
  await expect(notification('Download started')).toBeVisible();
  const download = await saved;
  expect(download.suggestedFilename()).toBe('system.log');
  const bytes = readFileSync((await download.path())!);
  expect(sha256(bytes)).toBe(sha256(readFileSync(join(deviceFiles, 'logs', 'system.log'))));
  await expect(notification('system.log downloaded')).toBeVisible();
  // the selection is cleared once the download started
  await expect(logs.getByRole('checkbox', { name: 'Select system.log', exact: true })).not.toBeChecked();
});

test('uploads with the picker and by dropping files on the folder; they appear in it', async () => {
  await page.getByRole('navigation', { name: 'Folder' }).getByRole('button', { name: 'Device' }).click();
  await folderTable('/').getByRole('button', { name: 'Open folder service' }).click();
  const service = folderTable('/service');
  await expect(service).toBeVisible();

  const calibration = randomBytes(300 * 1024);
  await pickFiles([{ name: 'calibration-e2e.dat', buffer: calibration }]);
  await expect(notification('calibration-e2e.dat sent to SFX-US00001')).toBeVisible({ timeout: 60_000 });
  await expect(service.getByRole('checkbox', { name: 'Select calibration-e2e.dat', exact: true })).toBeVisible();
  expect(sha256(readFileSync(join(deviceFiles, 'service', 'calibration-e2e.dat')))).toBe(sha256(calibration));

  const drop = filesPanel().getByRole('region', { name: /drop files here to upload them/ });
  // a drop from the desktop, as the page receives it (this file is compiled without the DOM types)
  const dataTransfer = await page.evaluateHandle(() => {
    const page = globalThis as unknown as { DataTransfer: new () => { items: { add(file: File): void } } };
    const data = new page.DataTransfer();
    data.items.add(new File(['Replaced the pressure sensor; see INC-31001.\n'], 'service-notes.txt', { type: 'text/plain' }));
    return data;
  });
  await dismissNotifications();
  await drop.dispatchEvent('dragover', { dataTransfer });
  await expect(page.getByText('Drop to upload to /service')).toBeVisible();
  await page.screenshot({ path: `${SCREENSHOTS}/files-drop.png` });
  await drop.dispatchEvent('drop', { dataTransfer });
  await expect(notification('service-notes.txt sent to SFX-US00001')).toBeVisible({ timeout: 60_000 });
  await expect(service.getByRole('checkbox', { name: 'Select service-notes.txt', exact: true })).toBeVisible();
  expect(readFileSync(join(deviceFiles, 'service', 'service-notes.txt'), 'utf8')).toBe('Replaced the pressure sensor; see INC-31001.\n');
});

test('the Transfers panel pauses, resumes and cancels, with progress and history', async () => {
  // three chunks at 1 MiB/s: the first is verified at the device after about 4 s, the last at 12 s
  const large = randomBytes(12 * 1024 * 1024);
  await pickFiles([{ name: 'firmware-tools.bin', buffer: large }]);
  await page.getByRole('button', { name: /^Transfers/ }).click();
  await expect(drawer()).toBeVisible();
  const row = drawer().getByRole('listitem', { name: 'Upload firmware-tools.bin' });
  const bar = row.getByRole('progressbar', { name: 'Progress of firmware-tools.bin' });
  // (a bar at 0 % has no width: attached, not yet visible)
  await expect(bar).toBeAttached();
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThan(0);
  await row.getByRole('button', { name: 'Pause firmware-tools.bin' }).click();
  await expect(row).toContainText('Paused');
  const heldAt = Number(await bar.getAttribute('aria-valuenow'));
  expect(heldAt).toBeLessThan(100);
  await dismissNotifications();
  await page.screenshot({ path: `${SCREENSHOTS}/transfers-paused.png` });
  await row.getByRole('button', { name: 'Resume firmware-tools.bin' }).click();
  await expect(notification('firmware-tools.bin sent to SFX-US00001')).toBeVisible({ timeout: 90_000 });
  expect(sha256(readFileSync(join(deviceFiles, 'service', 'firmware-tools.bin')))).toBe(sha256(large));

  await pickFiles([{ name: 'cancel-me.bin', buffer: randomBytes(6 * 1024 * 1024) }]);
  const doomed = drawer().getByRole('listitem', { name: 'Upload cancel-me.bin' });
  await expect(doomed.getByRole('button', { name: 'Pause cancel-me.bin' })).toBeVisible();
  await doomed.getByRole('button', { name: 'Cancel cancel-me.bin' }).click();
  await expect(doomed).toContainText('Canceled');
  const history = drawer().getByRole('list', { name: 'History' });
  await expect(history.getByRole('listitem', { name: 'Upload cancel-me.bin' })).toContainText('Canceled');
  await expect(history.getByRole('listitem', { name: 'Upload firmware-tools.bin' })).toContainText('Completed');
  await expect(history.getByRole('listitem', { name: 'Download system.log' })).toContainText('Completed');
  // nothing of the canceled file is left on the device, not even its partial file
  await expect.poll(() => existsSync(join(deviceFiles, 'service', 'cancel-me.bin')) || existsSync(join(deviceFiles, 'service', 'cancel-me.bin.tether-part')), { timeout: 30_000 }).toBe(false);
  await dismissNotifications();
  await page.screenshot({ path: `${SCREENSHOTS}/transfers-history.png` });
  await page.keyboard.press('Escape');
  await expect(drawer()).toHaveCount(0);
});
