/**
 * The Electron main process: app lifecycle, the window, and the security policy — the
 * only file (with src/main/electron/) that wires Electron. Everything it applies is a
 * pure, tested function of src/main/security.ts; everything it serves is the shared
 * composition of src/main/composition.ts.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, app, dialog, ipcMain, nativeTheme, protocol, safeStorage, session, shell } from 'electron';
import { IPC_CHANNEL } from '#contract/ipc';
import { composeConsole } from './composition.ts';
import { ElectronDialogs } from './electron/dialogs.ts';
import { ElectronReportPrinter } from './electron/report-pdf.ts';
import { electronSystemProxy } from './electron/system-proxy.ts';
import { SafeStorageVault } from './electron/vault.ts';
import { UtilityProcessLauncher } from './electron/utility-launcher.ts';
import { bindIpcMain } from './ipc.ts';
import { APP_HOST, APP_ORIGIN, APP_SCHEME, allowNavigation, contentSecurityPolicy, decidePermission, decideWindowOpen, isAppUrl, secureWebPreferences } from './security.ts';
import { NodeProcessLauncher } from './services/process-launcher.ts';
import { resolveStaticFile } from './static-files.ts';

const here = dirname(fileURLToPath(import.meta.url));
const rendererRoot = join(here, '../renderer');
const preloadPath = join(here, '../preload/index.cjs');

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

if (!app.requestSingleInstanceLock()) app.quit();

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (!allowNavigation(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    const decision = decideWindowOpen(url);
    if (decision.openExternally) void shell.openExternal(url);
    return { action: decision.action };
  });
});

async function start(): Promise<void> {
  await app.whenReady();
  const home = process.env.TETHER_CONSOLE_HOME ?? join(app.getPath('userData'), 'console');
  // Under `npm start` the simulator runs with the developer's Node (its native module is
  // built for Node); the packaged app runs its bundled copy as a utility process.
  const launcher = process.env.TETHER_NODE_PATH
    ? new NodeProcessLauncher(join(here, '../../agent-sim/offline.ts'), process.env.TETHER_NODE_PATH)
    : new UtilityProcessLauncher(join(here, 'simulator.js'));
  let window: BrowserWindow | null = null;
  const { handlers, service, events } = composeConsole({
    home,
    vault: new SafeStorageVault(safeStorage, home),
    launcher,
    appInfo: { version: app.getVersion(), mode: 'electron', platform: process.platform },
    openExternal: (url) => shell.openExternal(url),
    downloadsDir: app.getPath('downloads'),
    dialogs: (downloadsDir) => new ElectronDialogs(dialog, () => window, downloadsDir),
    pdfPrinter: new ElectronReportPrinter((options) => new BrowserWindow(options), dialog, () => window, app.getPath('documents')),
    systemProxy: electronSystemProxy((partition) => session.fromPartition(partition)),
  });

  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(decidePermission(permission)));
  session.defaultSession.setPermissionCheckHandler((_wc, permission) => decidePermission(permission));

  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const found = url.host === APP_HOST ? resolveStaticFile(rendererRoot, url.pathname) : undefined;
    if (!found) return new Response('not found', { status: 404 });
    return new Response(await readFile(found.file), {
      headers: { 'content-type': found.mime, 'content-security-policy': contentSecurityPolicy(), 'x-content-type-options': 'nosniff' },
    });
  });

  bindIpcMain(ipcMain, handlers, (url) => isAppUrl(url, APP_ORIGIN), (err, call) => console.error(`console: ${call} failed`, err));
  await service.resumeLastSession();

  window = new BrowserWindow({
    width: 1400,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Tether',
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#1a1b1e' : '#ffffff',
    webPreferences: secureWebPreferences(preloadPath),
  });
  const shown = window;
  const detach = events.attach((event, payload) => {
    if (!shown.isDestroyed()) shown.webContents.send(IPC_CHANNEL.event, event, payload);
  });
  shown.once('ready-to-show', () => shown.show());
  shown.on('closed', () => {
    detach();
    window = null;
  });
  await shown.loadURL(`${APP_ORIGIN}/index.html`);

  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    void service.shutdown().finally(() => app.quit());
  });
  app.on('window-all-closed', () => app.quit());
}

start().catch((err: unknown) => {
  console.error('tether console failed to start', err);
  app.exit(1);
});
