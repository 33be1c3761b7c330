import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron as electron, expect, test } from '@playwright/test';
import { electronBinary } from './electron-binary.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const binary = electronBinary();
if ('skip' in binary) process.stdout.write(`tests/electron skipped: ${binary.skip}\n`);

/** The same smoke flow as the browser-mode e2e, in the real Electron app (built by `npm run build`). */
test('the Electron console signs in to the simulator, shows the fleet, opens a device and signs out', async () => {
  test.skip('skip' in binary, 'skip' in binary ? binary.skip : '');
  const home = mkdtempSync(join(tmpdir(), 'tether-electron-'));
  const app = await electron.launch({
    executablePath: 'path' in binary ? binary.path : undefined,
    args: [ROOT, '--no-sandbox'],
    env: { ...process.env, TETHER_CONSOLE_HOME: home, TETHER_NODE_PATH: process.execPath },
  });
  try {
    const window = await app.firstWindow();
    // what the security baseline means from inside the page: no Node, only the contract
    const surface = await window.evaluate(() => ({
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
      tether: Object.keys((globalThis as { tether?: object }).tether ?? {}).sort(),
      origin: (globalThis as unknown as { location: { origin: string } }).location.origin,
    }));
    expect(surface).toEqual({ require: 'undefined', process: 'undefined', tether: ['invoke', 'on'], origin: 'app://tether' });

    await expect(window.getByRole('heading', { name: 'Sign in to Tether' })).toBeVisible();
    await window.getByLabel('Server profile').click();
    await window.getByRole('option', { name: 'Offline simulator' }).click();
    await window.getByLabel('Fleet size').fill('60');
    await window.getByRole('button', { name: 'Start simulator' }).click();
    await expect(window.getByTestId('fleet-loaded')).toHaveAttribute('data-count', '60', { timeout: 120_000 });
    await window.getByLabel('Search devices').fill('SFX-US00001');
    await window.getByRole('grid', { name: 'Devices' }).focus();
    await window.keyboard.press('Home');
    await window.keyboard.press('Enter');
    await expect(window.getByRole('heading', { name: /SFX-US00001/ })).toBeVisible();
    await window.getByRole('button', { name: 'Back to fleet' }).click();
    await window.getByRole('button', { name: 'Simulator Trainee' }).click();
    await window.getByRole('menuitem', { name: 'Sign out' }).click();
    await expect(window.getByRole('heading', { name: 'Sign in to Tether' })).toBeVisible();
  } finally {
    await app.close();
    rmSync(home, { recursive: true, force: true });
  }
});
