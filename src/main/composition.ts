import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EventHub, type IpcHandlers } from './dispatch.ts';
import { commandHandlers } from './services/command-handlers.ts';
import { ConsoleService } from './services/console-service.ts';
import { desktopHandlers } from './services/desktop-handlers.ts';
import { type FileDialogs, browserModeDialogs } from './services/file-dialogs.ts';
import { fleetHandlers } from './services/fleet-handlers.ts';
import type { ProcessLauncher } from './services/process-launcher.ts';
import { ProfileService, hostedRegionsFromEnv } from './services/profiles.ts';
import { type SystemProxyLookup, environmentProxyLookup } from '#node-lib/proxy-resolver';
import { ProxyService } from './services/proxy-service.ts';
import { type ReportPdfPrinter, PreflightService } from './services/preflight-service.ts';
import { SettingsStore } from './services/settings.ts';
import { sessionHandlers } from './services/session-handlers.ts';
import { simulatorHandlers } from './services/simulator-handlers.ts';
import { SimulatorSupervisor } from './services/simulator.ts';
import type { SecretVault } from './services/vault.ts';
import { transferHandlers } from './services/transfer-handlers.ts';
import { TransferEngine, type TransferEngineOptions } from './services/transfers/engine.ts';
import { StagingArea } from './services/transfers/staging.ts';
import { tunnelHandlers } from './services/tunnel-handlers.ts';
import { TunnelManager, type TunnelManagerOptions } from './services/tunnels/tunnel-manager.ts';
import { TunnelTerminals } from './services/tunnels/tunnel-terminals.ts';

/** Where the console keeps settings, vault and the simulator's fleet when not told otherwise. */
export function defaultConsoleHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TETHER_CONSOLE_HOME) return env.TETHER_CONSOLE_HOME;
  const base = env.XDG_CONFIG_HOME ?? (process.platform === 'win32' ? (env.APPDATA ?? join(homedir(), 'AppData', 'Roaming')) : join(homedir(), '.config'));
  return join(base, 'tether-console');
}

export interface ConsoleParts {
  home: string;
  vault: SecretVault;
  launcher: ProcessLauncher;
  appInfo: { version: string; mode: 'electron' | 'browser'; platform: string };
  openExternal: (url: string) => Promise<void>;
  connection?: ConstructorParameters<typeof ConsoleService>[0]['connection'];
  /** Where downloads go by default (Electron: the system's Downloads folder); `<home>/downloads` otherwise. */
  downloadsDir?: string;
  /** The system's pickers (Electron); browser mode answers with the downloads folder. */
  dialogs?: (downloadsDir: string) => FileDialogs;
  /** Transfer engine settings (tests shorten its waits). */
  transfers?: Partial<Pick<TransferEngineOptions, 'maxPerDevice' | 'retry' | 'pollMs' | 'progressIntervalMs'>>;
  /** Tunnel settings (tests shorten the redial schedule). */
  tunnels?: Partial<Pick<TunnelManagerOptions, 'redial' | 'waitForLinkMs' | 'pingMs' | 'openPollMs' | 'progressIntervalMs'>>;
  /** Saves pre-flight reports as PDF (Electron); browser mode has none and prints in the page. */
  pdfPrinter?: ReportPdfPrinter;
  /** Environment the pre-flight reads (TETHER_PREFLIGHT_MAP, CI); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The OS proxy resolution (Electron's session); browser mode reads HTTPS_PROXY / NO_PROXY from `env`. */
  systemProxy?: SystemProxyLookup;
}

/** The largest file the console stages for an upload in browser mode: the largest any model accepts. */
export const STAGING_LIMIT_BYTES = 64 * 1024 ** 3;

export interface ComposedConsole {
  /** Every call of the contract, for a binder (Electron IPC, the browser bridge) or a test. */
  handlers: IpcHandlers;
  service: ConsoleService;
  events: EventHub;
  transfers: TransferEngine;
  staging: StagingArea;
  tunnels: TunnelManager;
}

/**
 * Builds the console's main-process services from the parts that differ between Electron
 * and browser mode (vault, process launcher, how links open), and joins each domain's
 * slice of handlers into the one table. Everything else is shared.
 */
export function composeConsole(parts: ConsoleParts): ComposedConsole {
  mkdirSync(parts.home, { recursive: true, mode: 0o700 });
  const events = new EventHub();
  const settings = new SettingsStore(parts.home);
  const profiles = new ProfileService(settings, parts.vault, hostedRegionsFromEnv(process.env.TETHER_HOSTED_PROFILES));
  const simulator = new SimulatorSupervisor(parts.launcher, {
    dataDir: join(parts.home, 'simulator'),
    onStatus: (status) => events.emit('simulator.status', status),
    onOperator: (state) => events.emit('simulator.operator', state),
  });
  const downloadsDir = parts.downloadsDir ?? join(parts.home, 'downloads');
  const staging = new StagingArea(join(parts.home, 'staging'), STAGING_LIMIT_BYTES);
  const transfers = new TransferEngine({
    dir: join(parts.home, 'transfers'),
    staging,
    downloadsDir,
    onChange: (items) => events.emit('transfers.changed', { items }),
    ...parts.transfers,
  });
  const tunnels = new TunnelManager({ onChange: (items) => events.emit('tunnels.changed', { items }), ...parts.tunnels });
  const terminals = new TunnelTerminals(tunnels, { onData: (event) => events.emit('tunnels.terminal.data', event) });
  const env = parts.env ?? process.env;
  const proxy = new ProxyService({
    settings,
    vault: parts.vault,
    system: parts.systemProxy ?? environmentProxyLookup(env),
    systemSource: parts.systemProxy ? 'electron' : 'environment',
    server: () => service.signedInServer(),
  });
  const preflight = new PreflightService({
    settings,
    events,
    hostMapText: env.TETHER_PREFLIGHT_MAP,
    ci: Boolean(env.CI),
    generatorVersion: parts.appInfo.version,
    server: () => service.signedInServer(),
    printer: parts.pdfPrinter ?? null,
    consoleProxy: () => proxy.manualProxy(),
  });
  const dialogs = parts.dialogs ? parts.dialogs(downloadsDir) : browserModeDialogs(downloadsDir);
  const service: ConsoleService = new ConsoleService({
    profiles,
    proxy,
    settings,
    vault: parts.vault,
    simulator,
    events,
    transfers,
    tunnels,
    terminals,
    preflight,
    ...(parts.connection ? { connection: parts.connection } : {}),
  });
  // a call of the contract without a handler fails to compile here
  const handlers = {
    ...service.handlers,
    ...fleetHandlers(service),
    ...commandHandlers(service),
    ...sessionHandlers(service),
    ...transferHandlers(transfers, service),
    ...tunnelHandlers({ tunnels, terminals, openExternal: parts.openExternal }),
    ...simulatorHandlers(simulator),
    ...desktopHandlers({ appInfo: parts.appInfo, dialogs, openExternal: parts.openExternal }),
    ...preflight.handlers,
    ...proxy.handlers,
  } satisfies IpcHandlers;
  return { handlers, service, events, transfers, staging, tunnels };
}
