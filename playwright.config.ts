import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumPath } from './tests/e2e/chromium.ts';

/**
 * End-to-end tests: the real console in browser mode (same services, same renderer) with
 * the real simulator, driven in Debian's Chromium; and the Electron smoke test wherever
 * the Electron binary exists.
 */
export default defineConfig({
  timeout: 180_000,
  expect: { timeout: 30_000 },
  workers: 1,
  fullyParallel: false,
  reporter: [['list']],
  outputDir: 'test-results',
  projects: [
    {
      name: 'browser-mode',
      testDir: 'tests/e2e',
      use: {
        browserName: 'chromium',
        launchOptions: { executablePath: chromiumPath(), args: [...CHROMIUM_ARGS] },
        viewport: { width: 1440, height: 900 },
        trace: 'retain-on-failure',
      },
    },
    { name: 'electron', testDir: 'tests/electron' },
  ],
});
