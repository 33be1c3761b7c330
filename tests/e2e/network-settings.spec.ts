import type { Page } from '@playwright/test';
import { PROXY_USER, type ConnectProxy, startConnectProxy } from '../helpers/connect-proxy.ts';
import { SCREENSHOTS, expect, test } from './console.ts';
import { type E2eServer, startServerProcess } from './tether-server.ts';

/**
 * The console-wide proxy, set in Network settings on the sign-in screen: a hospital proxy
 * that wants credentials (a real CONNECT proxy on loopback). "Test proxy" says which hop
 * failed until the password is given; then the console signs in through it.
 */
test.describe.configure({ mode: 'serial' });
// a console of its own: the proxy saved here is console-wide and must not reach other specs
test.use({ consoleEnv: { TETHER_E2E_CONSOLE: 'network-settings' } });

let page: Page;
let server: E2eServer;
let proxy: ConnectProxy;

test.beforeAll(async ({ browser, consoleApp }) => {
  server = await startServerProcess();
  proxy = await startConnectProxy('demand-auth');
  page = await browser.newPage();
  await page.goto(consoleApp.url);
  await expect(page.getByRole('heading', { name: 'Sign in to Tether' })).toBeVisible();
  await page.getByRole('button', { name: 'Add server…' }).click();
  await page.getByLabel('Profile name').fill('Hospital server');
  await page.getByLabel('Server URL').fill(server.url);
  await page.getByLabel('CA certificate (PEM)').fill(server.caPem);
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
});

test.afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

test('a manual proxy with credentials: tested, saved, and used to sign in', async () => {
  await page.getByRole('button', { name: 'Network settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Network settings' });
  await dialog.getByRole('radio', { name: 'Manual proxy' }).check();
  await dialog.getByLabel('Proxy URL').fill(proxy.url);
  await dialog.getByLabel('Proxy user name').fill(PROXY_USER.username);
  // without its password the proxy answers 407, and the test says it was the proxy
  await dialog.getByRole('button', { name: 'Test proxy' }).click();
  await expect(dialog.getByRole('alert')).toContainText('Failed at the proxy');
  await dialog.getByLabel('Proxy password').fill(PROXY_USER.password);
  await dialog.getByRole('button', { name: 'Test proxy' }).click();
  await expect(dialog.getByRole('alert')).toContainText('Reached');
  await page.screenshot({ path: `${SCREENSHOTS}/network-settings.png` });
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);

  const before = proxy.targets.length;
  await page.getByLabel('Server profile').click();
  await page.getByRole('option', { name: 'Hospital server' }).click();
  await page.getByLabel('Username').fill(server.admin.username);
  await page.getByLabel('Password').fill(server.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Fleet' })).toBeVisible({ timeout: 30_000 });
  // the sign-in went through the proxy
  expect(proxy.targets.length).toBeGreaterThan(before);
});
