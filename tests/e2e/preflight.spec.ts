import { readFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { PreflightReportSchema } from '#contract/preflight';
import { type LoopbackListener, createCertificateAuthority, issueCertificate, startHttpListener, startTlsListener } from '../helpers/tls-targets.ts';
import { SCREENSHOTS, expect, test as consoleTest } from './console.ts';

/**
 * The Pre-flight screen in the real console (browser mode), signed out: a custom profile
 * written in the editor, its names sent by TETHER_PREFLIGHT_MAP to loopback listeners —
 * one that answers, one port nobody listens on, one TLS server whose certificate comes
 * from an unexpected CA (TLS inspection) — run from the keyboard, the verdict read, and
 * the JSON report downloaded.
 */

interface Targets {
  web: LoopbackListener;
  inspected: LoopbackListener;
  closedPort: number;
}

async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const test = consoleTest.extend<object, { targets: Targets }>({
  targets: [
    // Playwright reads a fixture's dependencies from this pattern, and requires one even when there are none
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const inspectionCa = await createCertificateAuthority('Hospital Inspection CA');
      const targets = {
        web: await startHttpListener(200, 'ward-web/1.0'),
        inspected: await startTlsListener(await issueCertificate(inspectionCa, ['inspected.ward7.example']), [inspectionCa.certPem]),
        closedPort: await unusedPort(),
      };
      await use(targets);
      await Promise.all([targets.web.close(), targets.inspected.close()]);
    },
    { scope: 'worker' },
  ],
  consoleEnv: [
    async ({ targets }, use) => {
      await use({
        TETHER_PREFLIGHT_MAP: [
          `portal.ward7.example=127.0.0.1:${targets.web.port}`,
          `closed.ward7.example=127.0.0.1:${targets.closedPort}`,
          `inspected.ward7.example=127.0.0.1:${targets.inspected.port}`,
        ].join(','),
      });
    },
    { scope: 'worker' },
  ],
});

const HOSTS = ['portal.ward7.example', 'closed.ward7.example', 'inspected.ward7.example'];

test('a custom profile mapped to loopback: rows fill, the verdict says blocked, and the JSON report holds every row', async ({ page, consoleApp }) => {
  await page.goto(consoleApp.url);
  await page.getByRole('button', { name: 'Check the network' }).click();
  await expect(page.getByRole('heading', { name: 'Network pre-flight' })).toBeVisible();

  await page.getByRole('button', { name: 'New profile' }).click();
  const editor = page.getByRole('dialog', { name: 'New pre-flight profile' });
  await editor.getByLabel('Name').fill('Ward 7 injectors');
  await editor.getByLabel('Hosts and ports').fill('portal.ward7.example: 80\nclosed.ward7.example: 443\ninspected.ward7.example: 443');
  await editor.getByRole('button', { name: 'Save profile' }).click();
  await expect(editor).toBeHidden();
  await expect(page.getByRole('combobox', { name: 'Profile' })).toHaveValue('Ward 7 injectors');

  await page.getByRole('button', { name: 'Run' }).focus();
  await page.keyboard.press('Enter');

  const verdict = page.getByRole('status', { name: 'Blocked' });
  await expect(verdict).toBeVisible();
  await expect(verdict).toContainText('Outbound TCP 443 to closed.ward7.example is blocked (connection refused)');
  await expect(verdict).toContainText('TLS to inspected.ward7.example is intercepted (issuer: Hospital Inspection CA)');
  await expect(page.getByText('Ward 7 injectors: 3 of 3 checked')).toBeVisible();

  const rows = page.getByRole('table', { name: 'Pre-flight checks' }).getByRole('row');
  await expect(rows).toHaveCount(4);
  await expect(rows.nth(1)).toContainText('portal.ward7.example');
  await expect(rows.nth(1)).toContainText('HTTP 200');
  await expect(rows.nth(1)).toContainText('OK');
  await expect(rows.nth(2)).toContainText('refused');
  await expect(rows.nth(2)).toContainText('Blocked');
  await expect(rows.nth(3)).toContainText('untrusted');
  await expect(rows.nth(3)).toContainText('Blocked');
  await page.screenshot({ path: `${SCREENSHOTS}/preflight.png` });

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^preflight-ward-7-injectors-.*\.json$/);
  const report = PreflightReportSchema.parse(JSON.parse(readFileSync(await download.path(), 'utf8')));
  expect(report.rows.map((r) => [r.host, r.verdict.level])).toEqual([
    [HOSTS[0], 'ok'],
    [HOSTS[1], 'blocked'],
    [HOSTS[2], 'blocked'],
  ]);
  expect(report.verdict.status).toBe('blocked');

  // browser mode has no PDF printer in the console process: the printable report opens in its own tab
  const [printable] = await Promise.all([page.waitForEvent('popup'), page.getByRole('button', { name: 'Print / PDF' }).click()]);
  await expect(printable.locator('body')).toContainText('Ward 7 injectors');
  for (const host of HOSTS) await expect(printable.locator('body')).toContainText(host);
  await printable.close();
});
