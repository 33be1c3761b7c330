import type { Page } from '@playwright/test';
import { SCREENSHOTS, expect, test } from './console.ts';

/**
 * The field engineer's main path in the real console (browser mode) against the real
 * offline simulator: sign in, fleet, search, device, live data, alarm from the fault
 * injector acknowledged, sign out.
 */
test.describe.configure({ mode: 'serial' });

let page: Page;

test.beforeAll(async ({ browser, consoleApp }) => {
  page = await browser.newPage();
  await page.goto(consoleApp.url);
});

test('signs in to the offline simulator and shows the fleet', async () => {
  await expect(page.getByRole('heading', { name: 'Sign in to Tether' })).toBeVisible();
  await page.getByLabel('Server profile').click();
  await page.getByRole('option', { name: 'Offline simulator' }).click();
  await page.getByLabel('Fleet size').fill('60');
  await page.screenshot({ path: `${SCREENSHOTS}/sign-in.png` });
  await page.getByRole('button', { name: 'Start simulator' }).click();

  await expect(page.getByRole('heading', { name: 'Fleet' })).toBeVisible({ timeout: 120_000 });
  const grid = page.getByTestId('fleet-loaded');
  await expect(grid).toHaveAttribute('data-count', '60');
  await expect(page.getByRole('status', { name: /^Connection:/ })).toContainText('Online');
  // the simulator's agents come online as they connect
  await expect(page.getByRole('button', { name: /^Online \d+/ })).toHaveText(/Online 60/, { timeout: 60_000 });
  const rows = page.getByRole('grid', { name: 'Devices' }).getByRole('row');
  expect(await rows.count()).toBeGreaterThan(10);
  await page.screenshot({ path: `${SCREENSHOTS}/fleet.png` });
});

test('follows the OS colour scheme', async () => {
  const background = () => page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
  const dark = await background();
  await page.screenshot({ path: `${SCREENSHOTS}/fleet-dark.png` });
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'light');
  expect(await background()).not.toBe(dark);
});

test('search narrows the fleet', async () => {
  const grid = page.getByRole('grid', { name: 'Devices' });
  await page.getByLabel('Search devices').fill('RAD-');
  await expect(async () => {
    const serials = await grid.getByRole('row').filter({ hasNot: page.getByRole('columnheader') }).allInnerTexts();
    expect(serials.length).toBeGreaterThan(0);
    expect(serials.length).toBeLessThan(20);
    for (const text of serials) expect(text).toMatch(/RAD-/);
  }).toPass();
  await page.getByLabel('Search devices').fill('');
});

test('opens a device from the keyboard and its data updates live', async () => {
  await page.getByLabel('Search devices').fill('SFX-US00001');
  const grid = page.getByRole('grid', { name: 'Devices' });
  await grid.focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: /SFX-US00001/ })).toBeVisible();
  await page.getByRole('tab', { name: 'Data' }).click();
  await expect(page.getByRole('img', { name: /^Chart of / })).toBeVisible();
  const values = page.locator('[data-testid^="value-"]');
  await expect(values.first()).toBeVisible();
  const before = await values.allInnerTexts();
  await expect(async () => {
    expect(await values.allInnerTexts()).not.toEqual(before);
  }).toPass({ timeout: 60_000 });
  await page.screenshot({ path: `${SCREENSHOTS}/device-data.png` });
});

test('acknowledges an alarm raised by the fault injector', async () => {
  await page.getByRole('tab', { name: 'Device panel' }).click();
  await page.getByRole('combobox', { name: 'Fault' }).click();
  await page.getByRole('option', { name: 'Pressure fault' }).click();
  await page.getByRole('button', { name: 'Inject fault' }).click();
  await page.getByRole('tab', { name: 'Alarms' }).click();
  const acknowledge = page.getByRole('button', { name: 'Acknowledge PRESSURE_LIMIT' });
  await expect(acknowledge).toBeVisible({ timeout: 60_000 });
  await page.screenshot({ path: `${SCREENSHOTS}/device-alarm.png` });
  await acknowledge.click();
  await expect(page.getByText(/acknowledged/i).first()).toBeVisible();
  await expect(acknowledge).toHaveCount(0);
  await page.getByRole('tab', { name: 'Device panel' }).click();
  await page.getByRole('button', { name: 'Clear faults' }).click();
});

test('runs a ping and shows its result', async () => {
  await page.getByRole('tab', { name: 'Commands' }).click();
  await page.getByRole('button', { name: 'Ping' }).click();
  await expect(page.getByText('succeeded').first()).toBeVisible({ timeout: 30_000 });
  await page.screenshot({ path: `${SCREENSHOTS}/device-commands.png` });
});

test('signs out back to the sign-in screen', async () => {
  await page.getByRole('button', { name: 'Back to fleet' }).click();
  await page.getByRole('button', { name: 'Simulator Trainee' }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Tether' })).toBeVisible();
});
