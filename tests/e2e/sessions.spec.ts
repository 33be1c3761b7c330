import type { Locator, Page } from '@playwright/test';
import { SCREENSHOTS, expect, test, openSimulatorDevice } from './console.ts';

/**
 * Consent-gated service sessions in the real console (browser mode) against the real
 * offline simulator, the trainee playing both sides: the engineer asks, the customer
 * answers in the device panel. A request approved and used for a diagnostic with
 * streamed output, then ended; one denied; one revoked while a diagnostic runs; one that
 * nobody answers. All on one device, so its history shows every ending.
 */
test.describe.configure({ mode: 'serial' });

// The simulator's server asks the device for consent with this deadline (default 120 s).
test.use({ consoleEnv: { TETHER_SIM_CONSENT_TIMEOUT_SECONDS: '8' } });

const DEVICE = 'SFX-US00001';
const TRAINEE = 'Simulator Trainee';

let page: Page;

/** A notification (they are polite `status` regions) whose text matches. */
const notification = (text: string | RegExp): Locator => page.getByRole('status').filter({ hasText: text });
const banner = (): Locator => page.getByRole('region', { name: 'Service session' });

async function openTab(name: string): Promise<void> {
  await page.getByRole('tab', { name, exact: true }).click();
}

/** Asks for a session on the open device with the dialog, and waits for the consent question. */
async function requestSession(reason: string): Promise<void> {
  await page.getByRole('button', { name: 'Request session' }).click();
  const dialog = page.getByRole('dialog', { name: 'Request a service session' });
  await dialog.getByLabel('Reason or ticket number').fill(reason);
  await dialog.getByLabel('Reason or ticket number').press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(page.getByText('Waiting for consent at the device')).toBeVisible();
}

/** Plays the customer: approves the waiting request in the device panel. */
async function approveInDevicePanel(): Promise<void> {
  await openTab('Device panel');
  await page.getByRole('button', { name: `Approve consent for ${TRAINEE}` }).click();
  await expect(notification(/^Consent granted by/)).toBeVisible();
  await expect(banner()).toContainText('You (in control)');
}

/** Picks a diagnostic in the Action select. */
async function chooseAction(label: string): Promise<void> {
  await page.getByLabel('Action', { exact: true }).click();
  await page.getByRole('option', { name: new RegExp(`^${label}`) }).click();
}

/** The progress bar's value, 0–100. */
async function progressValue(): Promise<number> {
  return Number(await page.getByRole('progressbar', { name: 'Progress' }).getAttribute('aria-valuenow'));
}

test.beforeAll(async ({ browser, consoleApp }) => {
  page = await browser.newPage();
  await openSimulatorDevice(page, consoleApp.url, 12, DEVICE);
});

test('a session approved at the device runs a self-test with streamed output, then ends', async () => {
  await page.getByRole('button', { name: 'Request session' }).click();
  const dialog = page.getByRole('dialog', { name: 'Request a service session' });
  await expect(dialog.getByRole('checkbox', { name: 'Diagnose' })).toBeChecked();
  await expect(dialog.getByRole('checkbox', { name: 'Files' })).not.toBeChecked();
  // the reason is required and checked at its field
  await dialog.getByLabel('Reason or ticket number').fill('x');
  await dialog.getByRole('button', { name: 'Request' }).click();
  await expect(dialog.getByText(/at least 3 characters/)).toBeVisible();
  await dialog.getByLabel('Reason or ticket number').fill('INC-20931 pressure faults after the last service');
  await page.screenshot({ path: `${SCREENSHOTS}/session-request.png` });
  await dialog.getByLabel('Reason or ticket number').press('Enter');

  await expect(page.getByText('Waiting for consent at the device')).toBeVisible();
  await expect(page.getByRole('timer').first()).toHaveText(/^\d+s left$/);
  await openTab('Device panel');
  const question = page.getByRole('listitem').filter({ hasText: TRAINEE });
  await expect(question).toContainText('INC-20931 pressure faults after the last service');
  await expect(question).toContainText('Diagnose');
  await page.screenshot({ path: `${SCREENSHOTS}/session-waiting.png` });
  await page.getByRole('button', { name: `Approve consent for ${TRAINEE}` }).click();

  await expect(notification(/^Consent granted by/)).toBeVisible();
  await expect(banner()).toContainText('You (in control)');
  await expect(banner().getByRole('timer')).toHaveText(/^Time left \d+:\d\d/);
  // the customer sees who is connected, and can end it
  await expect(page.getByRole('button', { name: `Revoke session of ${TRAINEE}` })).toBeVisible();
  await page.screenshot({ path: `${SCREENSHOTS}/device-panel.png` });

  await openTab('Diagnostics');
  await chooseAction('Self-test');
  await page.getByRole('switch', { name: 'Also test the drive mechanics (takes longer)' }).check();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const log = page.getByRole('log', { name: 'Output' });
  await expect(log).toContainText('Self-test started');
  await expect.poll(progressValue).toBeGreaterThan(0);
  const midway = await progressValue();
  await expect(page.getByLabel('State: running')).toBeVisible();
  await page.screenshot({ path: `${SCREENSHOTS}/session-active-diagnostics.png` });
  await expect.poll(progressValue).toBeGreaterThan(midway);

  await expect(page.getByLabel('State: succeeded')).toBeVisible({ timeout: 60_000 });
  await expect(log).toContainText(/Self-test (passed|FAILED)/);
  await expect(page.getByRole('table', { name: 'Checks' })).toBeVisible();
  expect(await progressValue()).toBe(100);

  // more time is a new consent: the operator at the device is asked again
  await banner().getByRole('button', { name: 'Extend' }).click();
  await page.getByRole('button', { name: 'Ask for more time' }).click();
  await expect(banner()).toContainText('Extension waiting for consent');
  await expect(banner().getByRole('button', { name: 'Extend' })).toBeDisabled();
  await openTab('Device panel');
  await expect(page.getByRole('listitem').filter({ hasText: TRAINEE })).toContainText('asks for 30 more minutes');
  await page.getByRole('button', { name: `Approve consent for ${TRAINEE}` }).click();
  await expect(notification('More time granted')).toBeVisible();
  await expect(banner()).not.toContainText('Extension waiting for consent');
  // 30 + 30 minutes: the clock reads about an hour
  await expect(banner().getByRole('timer')).toHaveText(/^Time left (59:[0-5]\d|1:00:00)/);

  await banner().getByRole('button', { name: 'End session' }).click();
  await expect(notification('Session ended: ended by the engineer')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Request session' })).toBeVisible();
  await openTab('Sessions');
  await expect(page.getByRole('table', { name: 'Sessions' }).getByRole('row').nth(1)).toContainText('Ended by the engineer');
});

test('a denied request is announced and the device is free again', async () => {
  await requestSession('INC-20932 syringe heater check');
  await openTab('Device panel');
  await page.getByRole('button', { name: `Deny consent for ${TRAINEE}` }).click();

  await expect(notification('Consent denied')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Request session' })).toBeVisible();
  await expect(page.getByText('No one is asking for access.')).toBeVisible();
  await openTab('Sessions');
  const latest = page.getByRole('table', { name: 'Sessions' }).getByRole('row').nth(1);
  await expect(latest).toContainText('Denied');
  await expect(latest).toContainText('Consent was denied');
});

test('the customer revoking mid-action cancels it, and the console says why', async () => {
  await requestSession('INC-20933 collect logs for the vendor');
  await approveInDevicePanel();
  await openTab('Diagnostics');
  await chooseAction('Collect log bundle');
  await page.getByLabel('Hours of logs').fill('168');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(page.getByRole('log', { name: 'Output' })).toContainText('Collecting');
  await expect(page.getByLabel('State: running')).toBeVisible();

  await openTab('Device panel');
  await page.getByRole('button', { name: `Revoke session of ${TRAINEE}` }).click();
  // told at once, whatever tab is shown
  await expect(notification('Session ended: revoked at the device by the customer')).toBeVisible();
  await expect(banner()).toHaveCount(0);

  await openTab('Diagnostics');
  await expect(page.getByLabel('State: canceled')).toBeVisible({ timeout: 30_000 });
  // the agent names the cause, and who revoked when it knows ("… by Biomed (simulator)")
  await expect(page.getByRole('alert').filter({ hasText: 'Collect log bundle canceled' })).toContainText(/The session ended — revoked at the device by/);
  // the output so far is still there (fetched again on reopening the tab)
  await expect(page.getByRole('log', { name: 'Output' })).toContainText('Collecting');
  await expect(page.getByRole('button', { name: 'Run', exact: true })).toBeDisabled();
});

test('the history lists every session with its end cause in words and a timeline', async () => {
  await openTab('Sessions');
  const table = page.getByRole('table', { name: 'Sessions' });
  await expect(table.getByRole('row')).toHaveCount(4);
  await expect(table).toContainText('Revoked at the device by the customer');
  await expect(table).toContainText('Consent was denied');
  await expect(table).toContainText('Ended by the engineer');
  await table.getByRole('button', { name: /^Timeline of the session/ }).first().click();
  const timeline = page.getByRole('list', { name: 'Timeline' });
  await expect(timeline).toContainText('Consent approved');
  await expect(timeline).toContainText('CUSTOMER_REVOKED');
  // a clean picture: the notifications of the tests before are dismissed
  const dismiss = page.getByRole('button', { name: 'Dismiss notification' });
  await expect(async () => {
    if ((await dismiss.count()) > 0) await dismiss.first().click({ timeout: 1000 });
    expect(await dismiss.count()).toBe(0);
  }).toPass();
  await page.screenshot({ path: `${SCREENSHOTS}/session-history.png` });
});

test('a request nobody answers times out', async () => {
  await requestSession('INC-20934 nobody at the desk');
  await expect(page.getByRole('timer').first()).toHaveText(/^\d+s left$/);
  // TETHER_SIM_CONSENT_TIMEOUT_SECONDS=8 above, plus the server's sweep interval
  await expect(notification('Nobody answered in time')).toBeVisible({ timeout: 45_000 });
  await expect(page.getByRole('button', { name: 'Request session' })).toBeVisible();
  await openTab('Sessions');
  await expect(page.getByRole('table', { name: 'Sessions' }).getByRole('row').nth(1)).toContainText('Nobody answered the consent request in time');
});
