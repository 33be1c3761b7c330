import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Page, expect, test as base } from '@playwright/test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ConsoleProcess {
  url: string;
  home: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts the console in browser mode (src/main/browser.ts) with its own home dir; `env`
 * adds to its environment (and so to the simulator it starts).
 */
export async function startConsole(home = mkdtempSync(join(tmpdir(), 'tether-e2e-')), env: Readonly<Record<string, string>> = {}): Promise<ConsoleProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', `${ROOT}src/main/browser.ts`, '--no-open', '--json', '--home', home], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TETHER_LOG_LEVEL: 'warn', ...env },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`console did not start: ${stderr}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`console exited (${code}): ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const ready = JSON.parse(line) as { event?: string; url?: string };
        if (ready.event === 'ready' && ready.url) {
          clearTimeout(timer);
          resolve(ready.url);
        }
      } catch {
        // not the ready line
      }
    });
  });
  return {
    url,
    home,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * A test with one console process per worker (shared by the tests of a file). A spec can
 * give that console extra environment with `test.use({ consoleEnv: {…} })`.
 */
export const test = base.extend<object, { consoleApp: ConsoleProcess; consoleEnv: Readonly<Record<string, string>> }>({
  consoleEnv: [{}, { scope: 'worker', option: true }],
  consoleApp: [
    async ({ consoleEnv }, use) => {
      const app = await startConsole(undefined, consoleEnv);
      await use(app);
      await app.stop();
    },
    { scope: 'worker', timeout: 90_000 },
  ],
});

export { expect };

/** Where README screenshots are kept. */
export const SCREENSHOTS = `${ROOT}docs/screenshots`;

/**
 * Signs in to the offline simulator with `fleetSize` devices, waits until they are all
 * online, and opens `serial` from the fleet grid with the keyboard.
 */
export async function openSimulatorDevice(page: Page, url: string, fleetSize: number, serial: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Server profile').click();
  await page.getByRole('option', { name: 'Offline simulator' }).click();
  await page.getByLabel('Fleet size').fill(String(fleetSize));
  await page.getByRole('button', { name: 'Start simulator' }).click();
  await expect(page.getByRole('heading', { name: 'Fleet' })).toBeVisible({ timeout: 120_000 });
  await expect(page.getByRole('button', { name: /^Online \d+/ })).toHaveText(new RegExp(`Online ${fleetSize}`), { timeout: 60_000 });
  await page.getByLabel('Search devices').fill(serial);
  const grid = page.getByRole('grid', { name: 'Devices' });
  await grid.focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: new RegExp(serial) })).toBeVisible();
}
