import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EventHub } from './dispatch.ts';
import { ConsoleService } from './services/console-service.ts';
import type { ProcessLauncher } from './services/process-launcher.ts';
import { ProfileService, hostedRegionsFromEnv } from './services/profiles.ts';
import { SettingsStore } from './services/settings.ts';
import { SimulatorSupervisor } from './services/simulator.ts';
import type { SecretVault } from './services/vault.ts';

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
}

/**
 * Builds the console's main-process services from the parts that differ between Electron
 * and browser mode (vault, process launcher, how links open). Everything else is shared.
 */
export function composeConsole(parts: ConsoleParts): { service: ConsoleService; events: EventHub } {
  mkdirSync(parts.home, { recursive: true, mode: 0o700 });
  const events = new EventHub();
  const settings = new SettingsStore(parts.home);
  const profiles = new ProfileService(settings, parts.vault, hostedRegionsFromEnv(process.env.TETHER_HOSTED_PROFILES));
  const simulator = new SimulatorSupervisor(parts.launcher, {
    dataDir: join(parts.home, 'simulator'),
    onStatus: (status) => events.emit('simulator.status', status),
    onOperator: (state) => events.emit('simulator.operator', state),
  });
  const service = new ConsoleService({
    profiles,
    settings,
    vault: parts.vault,
    simulator,
    events,
    appInfo: parts.appInfo,
    openExternal: parts.openExternal,
    ...(parts.connection ? { connection: parts.connection } : {}),
  });
  return { service, events };
}
