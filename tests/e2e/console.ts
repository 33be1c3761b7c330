import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test as base } from '@playwright/test';

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

export { expect } from '@playwright/test';

/** Where README screenshots are kept. */
export const SCREENSHOTS = `${ROOT}docs/screenshots`;
