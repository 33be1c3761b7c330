import type { Locator, Page } from '@playwright/test';
import { SCREENSHOTS, expect, test, openSimulatorDevice } from './console.ts';

/**
 * Tunnels in the real console (browser mode) against the real offline simulator: a
 * session with the Tunnel scope approved at the device, a tunnel to the device's service
 * web page (fetched through the local port, and opened in a browser tab), a tunnel to its
 * service console with the embedded terminal, the active-tunnels drawer, and closing.
 */
test.describe.configure({ mode: 'serial' });

test.use({ consoleEnv: { TETHER_SIM_CONSENT_TIMEOUT_SECONDS: '60' } });

const DEVICE = 'SFX-US00001';
const TRAINEE = 'Simulator Trainee';

let page: Page;
/** What the page's console reported against the Content-Security-Policy (xterm injects styles). */
const cspViolations: string[] = [];

const notification = (text: string | RegExp): Locator => page.getByRole('status').filter({ hasText: text });
const tunnelsPanel = (): Locator => page.getByRole('tabpanel', { name: 'Tunnels' });
const row = (target: string): Locator => tunnelsPanel().getByRole('list', { name: 'Open tunnels' }).getByRole('listitem', { name: `Tunnel to ${target}` });
const drawer = (): Locator => page.getByRole('dialog', { name: 'Tunnels' });

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

/** Opens a tunnel to `label` from the tab's form, with the keyboard, and waits for its row. */
async function openTunnel(label: RegExp, target: string): Promise<Locator> {
  const select = tunnelsPanel().getByLabel('Service on the device');
  await select.selectOption({ label: (await select.locator('option').allTextContents()).find((t) => label.test(t))! });
  await select.press('Enter');
  await expect(tunnelsPanel().getByRole('button', { name: 'Open tunnel' })).toBeEnabled();
  const opened = row(target);
  await expect(opened).toContainText('Open', { timeout: 30_000 });
  return opened;
}

test.beforeAll(async ({ browser, consoleApp }) => {
  page = await browser.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
  });
  await openSimulatorDevice(page, consoleApp.url, 6, DEVICE);
});

test('without a session the Tunnels tab says why, and asks for one with the Tunnel scope', async () => {
  await openTab('Tunnels');
  await expect(tunnelsPanel()).toContainText('needs an active service session with the Tunnel scope');
  await tunnelsPanel().getByRole('button', { name: 'Request session' }).click();
  const dialog = page.getByRole('dialog', { name: 'Request a service session' });
  await expect(dialog.getByRole('checkbox', { name: 'Tunnel' })).toBeChecked();
  await dialog.getByLabel('Reason or ticket number').fill('INC-32001 check the service page and console');
  await dialog.getByLabel('Reason or ticket number').press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(tunnelsPanel()).toContainText('Waiting for the customer’s consent');

  await openTab('Device panel');
  await page.getByRole('button', { name: `Approve consent for ${TRAINEE}` }).click();
  await expect(notification(/^Consent granted by/)).toBeVisible();
  await openTab('Tunnels');
  await expect(tunnelsPanel().getByRole('button', { name: 'Open tunnel' })).toBeVisible();
});

test('a tunnel to the service web page: a local address on 127.0.0.1 that serves the device’s page', async () => {
  const web = await openTunnel(/^Service web page/, 'Service web page');
  const address = await web.getByTestId('tunnel-address').textContent();
  expect(address).toMatch(/^127\.0\.0\.1:\d+$/);
  await expect(web).toContainText('console direct · device direct');

  // any client on this machine can use the local port: the test's own HTTP client here
  const page1 = await fetch(`http://${address}/`);
  expect(page1.status).toBe(200);
  const html = await page1.text();
  expect(html).toContain(DEVICE);
  expect(html).toContain('MEDRAD Stellant FLEX');
  await expect(web.getByTestId('tunnel-traffic')).not.toContainText('↓ 0 B', { timeout: 10_000 });
  await dismissNotifications();
  await page.screenshot({ path: `${SCREENSHOTS}/tunnel-tab.png` });

  // "Open in browser": a new tab on the local address, where the page keeps itself live
  const popupOpened = page.waitForEvent('popup');
  await web.getByRole('button', { name: 'Open Service web page in the browser' }).click();
  const popup = await popupOpened;
  await expect(popup.getByRole('heading', { name: 'MEDRAD Stellant FLEX CT Injection System' })).toBeVisible();
  await expect(popup.locator('#items')).toContainText('Syringe A volume');
  const firstUpdate = await popup.locator('#at').textContent();
  await expect(popup.locator('#at')).not.toHaveText(firstUpdate ?? '', { timeout: 10_000 });
  await popup.screenshot({ path: `${SCREENSHOTS}/tunnel-service-page.png` });
  await popup.close();
});

test('a tunnel to the service console, used from the embedded terminal', async () => {
  const consoleRow = await openTunnel(/^Service console/, 'Service console');
  await consoleRow.getByRole('button', { name: 'Open a terminal on Service console' }).click();
  const terminal = tunnelsPanel().getByRole('region', { name: /^Terminal: Service console/ });
  const screen = terminal.locator('.xterm-rows');
  await expect(screen).toContainText(`${DEVICE}>`, { timeout: 15_000 });
  await page.keyboard.type('status');
  await page.keyboard.press('Enter');
  await expect(screen).toContainText('MEDRAD Stellant FLEX CT Injection System');
  await expect(screen).toContainText(/state\s+\w+/);
  await page.keyboard.type('alarms');
  await page.keyboard.press('Enter');
  await expect(screen).toContainText(/no alarms raised|[A-Z_]{4,}/);
  // the terminal works under the console's strict CSP: nothing was refused
  expect(cspViolations).toEqual([]);
  await dismissNotifications();
  await page.screenshot({ path: `${SCREENSHOTS}/tunnel-terminal.png` });
  await terminal.getByRole('button', { name: 'Close terminal' }).click();
  await expect(terminal).toHaveCount(0);
});

test('the Tunnels drawer lists both with path and traffic, and closes them', async () => {
  await page.getByRole('button', { name: 'Tunnels, 2 open' }).click();
  await expect(drawer()).toBeVisible();
  const open = drawer().getByRole('list', { name: 'Open' });
  await expect(open.getByRole('listitem')).toHaveCount(2);
  const web = open.getByRole('listitem', { name: `Tunnel to Service web page on ${DEVICE}` });
  await expect(web).toContainText('console direct · device direct');
  await expect(web).toContainText(/↑ [\d.]+ (B|kB) · ↓ [\d.]+ (B|kB|MB)/);
  // the drawer slides in: wait for it to settle before the picture
  await page.evaluate(async () => {
    // this file is compiled without the DOM types
    const { document } = globalThis as unknown as { document: { getAnimations(): { finished: Promise<unknown> }[] } };
    await Promise.all(document.getAnimations().map((a) => a.finished));
  });
  await page.screenshot({ path: `${SCREENSHOTS}/tunnel-drawer.png` });

  await web.getByRole('button', { name: `Close the tunnel to Service web page on ${DEVICE}` }).click();
  const closed = drawer().getByRole('list', { name: 'Recently closed' }).getByRole('listitem', { name: `Tunnel to Service web page on ${DEVICE}` });
  await expect(closed).toContainText('Closed — closed by the engineer');
  await expect(open.getByRole('listitem')).toHaveCount(1);
  await page.keyboard.press('Escape');
  await expect(drawer()).toHaveCount(0);

  await row('Service console').getByRole('button', { name: 'Close the tunnel to Service console' }).click();
  await expect(tunnelsPanel()).toContainText('No tunnel to this device is open from this console.');
  await expect(tunnelsPanel().getByRole('list', { name: 'Recently closed' }).getByRole('listitem')).toHaveCount(2);
  await dismissNotifications();
  await page.screenshot({ path: `${SCREENSHOTS}/tunnel-closed.png` });
});
