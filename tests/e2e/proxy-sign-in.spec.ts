import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from '@playwright/test';
import { PROXY_USER, type ConnectProxy, startConnectProxy } from '../helpers/connect-proxy.ts';
import { SCREENSHOTS, expect, test } from './console.ts';
import { type E2eServer, startServerProcess } from './tether-server.ts';

/**
 * A hospital whose PAC script sends the console to a proxy that wants credentials (a real
 * CONNECT proxy and a PAC script on loopback). Network settings → PAC: "Test proxy" names
 * the proxy that asked; a "Proxy sign-in" for it lets the console through.
 */
test.describe.configure({ mode: 'serial' });
// a console of its own: the proxy saved here is console-wide and must not reach other specs
test.use({ consoleEnv: { TETHER_E2E_CONSOLE: 'proxy-sign-in' } });

let page: Page;
let server: E2eServer;
let proxy: ConnectProxy;
let pacServer: http.Server;
let pacUrl: string;

test.beforeAll(async ({ browser, consoleApp }) => {
  server = await startServerProcess();
  proxy = await startConnectProxy('demand-auth');
  const serverPort = new URL(server.url).port;
  pacServer = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ns-proxy-autoconfig' });
    res.end(`function FindProxyForURL(url, host) {
      if (url.indexOf(":${serverPort}/") !== -1) return "PROXY ${new URL(proxy.url).host}";
      return "DIRECT";
    }`);
  });
  await new Promise<void>((resolve) => pacServer.listen(0, '127.0.0.1', resolve));
  pacUrl = `http://127.0.0.1:${(pacServer.address() as AddressInfo).port}/proxy.pac`;
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
  await new Promise<void>((resolve) => (pacServer ? pacServer.close(() => resolve()) : resolve()));
  await proxy?.close();
  await server?.stop();
});

test('a PAC-chosen proxy that asks for credentials: named by the test, passed with a proxy sign-in', async () => {
  const hostPort = new URL(proxy.url).host;
  await page.getByRole('button', { name: 'Network settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Network settings' });
  await dialog.getByRole('radio', { name: 'Automatic configuration (PAC) URL' }).check();
  await dialog.getByLabel('PAC URL').fill(pacUrl);
  await dialog.getByRole('button', { name: 'Test proxy' }).click();
  const outcome = dialog.getByRole('alert').filter({ hasText: 'Failed at the proxy' });
  await expect(outcome).toContainText(`was chosen by the PAC script`);
  await expect(outcome).toContainText(`add a sign-in for ${hostPort} under Network settings → Proxy sign-in`);

  await dialog.getByRole('button', { name: 'Add a proxy sign-in' }).click();
  await dialog.getByLabel('Proxy 1 (host:port)', { exact: true }).fill(hostPort);
  await dialog.getByLabel('User name for proxy 1', { exact: true }).fill(PROXY_USER.username);
  await dialog.getByLabel('Password for proxy 1', { exact: true }).fill(PROXY_USER.password);
  await dialog.getByRole('button', { name: 'Test proxy' }).click();
  await expect(dialog.getByRole('alert').filter({ hasText: `Reached` })).toBeVisible();
  // saved by the test: the password went to the vault and is not shown back
  await expect(dialog.getByLabel('Password for proxy 1', { exact: true })).toHaveValue('');
  await expect(dialog.getByLabel('Password for proxy 1', { exact: true })).toHaveAttribute('placeholder', 'stored');
  await page.screenshot({ path: `${SCREENSHOTS}/network-settings-proxy-sign-in.png` });
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toHaveCount(0);

  const before = proxy.targets.length;
  await page.getByLabel('Server profile').click();
  await page.getByRole('option', { name: 'Hospital server' }).click();
  await page.getByLabel('Username').fill(server.admin.username);
  await page.getByLabel('Password').fill(server.admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Fleet' })).toBeVisible({ timeout: 30_000 });
  // the sign-in went through the proxy the PAC script chose
  expect(proxy.targets.slice(before)).toContain(new URL(server.url).host);
});
