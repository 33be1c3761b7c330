import type { Page } from '@playwright/test';
import { createServer } from 'node:net';
import { createCertificateAuthority } from '../../server/pki/certificates.ts';
import { startConnectProxy } from '../helpers/connect-proxy.ts';
import { SCREENSHOTS, expect, test } from './console.ts';
import { type E2eServer, startServerProcess } from './tether-server.ts';

/** Clear messages for what goes wrong at sign-in, against a real server process. */
test.describe.configure({ mode: 'serial' });

let page: Page;
let server: E2eServer;

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
    });
  });
}

async function addProfile(name: string, url: string, caPem: string, proxyUrl?: string): Promise<void> {
  await page.getByRole('button', { name: 'Add server…' }).click();
  await page.getByLabel('Profile name').fill(name);
  await page.getByLabel('Server URL').fill(url);
  await page.getByLabel('CA certificate (PEM)').fill(caPem);
  if (proxyUrl) await page.getByLabel('Proxy URL').fill(proxyUrl);
  await page.getByRole('button', { name: 'Save profile' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
}

async function signIn(profile: string, username: string, password: string): Promise<void> {
  await page.getByLabel('Server profile').click();
  await page.getByRole('option', { name: profile }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test.beforeAll(async ({ browser, consoleApp }) => {
  server = await startServerProcess();
  page = await browser.newPage();
  await page.goto(consoleApp.url);
  await expect(page.getByRole('heading', { name: 'Sign in to Tether' })).toBeVisible();
});

test.afterAll(async () => {
  await server?.stop();
});

test('wrong password says so', async () => {
  await addProfile('Test server', server.url, server.caPem);
  await signIn('Test server', 'admin', 'not-the-password');
  await expect(page.getByRole('alert')).toContainText('Wrong username or password.');
  await page.screenshot({ path: `${SCREENSHOTS}/sign-in-wrong-password.png` });
});

test('a locked account says how long it stays locked', async () => {
  await server.addUser('locked-out');
  for (let i = 0; i < 5; i += 1) await signIn('Test server', 'locked-out', `wrong-${i}`);
  await expect(page.getByRole('alert')).toContainText(/locked after too many failed sign-ins\. Try again in 15 minutes/);
  await page.screenshot({ path: `${SCREENSHOTS}/sign-in-locked.png` });
});

test('an unreachable server is named', async () => {
  const port = await closedPort();
  await addProfile('Nowhere', `https://127.0.0.1:${port}`, server.caPem);
  await signIn('Nowhere', 'admin', 'whatever');
  await expect(page.getByRole('alert')).toContainText('Cannot reach the server');
  await expect(page.getByRole('alert')).toContainText(`127.0.0.1:${port}`);
});

test('a certificate that does not match the pinned CA is refused', async () => {
  const foreign = await createCertificateAuthority('Someone Else');
  await addProfile('Wrong pin', server.url, foreign.certPem);
  await signIn('Wrong pin', 'admin', server.admin.password);
  await expect(page.getByRole('alert')).toContainText("does not match the one pinned for this profile");
});

test('a proxy that refuses the tunnel is named as the hop that failed', async () => {
  // a real HTTP proxy on loopback that refuses every CONNECT, as a locked-down hospital proxy does
  const proxy = await startConnectProxy('refuse');
  const proxyPort = new URL(proxy.url).port;
  try {
    await addProfile('Behind proxy', server.url, server.caPem, proxy.url);
    await signIn('Behind proxy', 'admin', server.admin.password);
    await expect(page.getByRole('alert')).toContainText('The proxy refused the connection');
    await expect(page.getByRole('alert')).toContainText(`127.0.0.1:${proxyPort}`);
    await page.screenshot({ path: `${SCREENSHOTS}/sign-in-proxy-refused.png` });
  } finally {
    await proxy.close();
  }
});

test('the right password signs in', async () => {
  await signIn('Test server', 'admin', server.admin.password);
  await expect(page.getByRole('heading', { name: 'Fleet' })).toBeVisible();
});
