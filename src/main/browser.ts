#!/usr/bin/env node
/**
 * `npm run start:web`: the console without Electron. The same main-process services and
 * the same renderer, carried over a token-protected loopback WebSocket (src/main/web.ts)
 * instead of Electron IPC. Used where the Electron binary cannot be obtained, and by the
 * end-to-end tests.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { composeConsole, defaultConsoleHome } from './composition.ts';
import { NodeProcessLauncher } from './services/process-launcher.ts';
import { EncryptedFileVault } from './services/vault.ts';
import { startBrowserBridge } from './web.ts';
import { TETHER_VERSION } from '#node-lib/version';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Opens the default browser where there is one; silently does nothing elsewhere. */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return;
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: 'string', default: '0' },
      home: { type: 'string' },
      'no-open': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const staticDir = `${ROOT}out/renderer`;
  if (!existsSync(`${staticDir}/index.html`)) {
    throw new Error('the console is not built yet: run `npm run build` (npm start does it for you)');
  }
  const home = values.home ?? defaultConsoleHome();
  const { handlers, service, events, staging, transfers } = composeConsole({
    home,
    vault: new EncryptedFileVault(home),
    launcher: new NodeProcessLauncher(`${ROOT}agent-sim/offline.ts`),
    appInfo: { version: TETHER_VERSION, mode: 'browser', platform: process.platform },
    openExternal: async (url) => openBrowser(url),
  });
  await service.resumeLastSession();
  const bridge = await startBrowserBridge({
    handlers,
    events,
    staticDir,
    staging,
    downloadedFile: (id) => transfers.downloadedFile(id),
    port: Number(values.port),
    onInternalError: (err, call) => process.stderr.write(`console: ${call} failed: ${(err as Error).stack ?? String(err)}\n`),
  });
  if (values.json) process.stdout.write(`${JSON.stringify({ event: 'ready', url: bridge.url, origin: bridge.origin, home })}\n`);
  else process.stdout.write(`\n  Tether console (browser mode): ${bridge.url}\n  Keep this window open; Ctrl+C stops the console and its simulator.\n\n`);
  if (!values['no-open'] && !process.env.CI) openBrowser(bridge.url);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void Promise.all([bridge.close(), service.shutdown()]).finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`tether console: ${(err as Error).message}\n`);
  process.exit(2);
});
