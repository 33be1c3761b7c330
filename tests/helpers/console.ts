import { join } from 'node:path';
import { type ComposedConsole, type ConsoleParts, composeConsole } from '../../src/main/composition.ts';
import { NodeProcessLauncher } from '../../src/main/services/process-launcher.ts';
import { MemoryVault } from '../../src/main/services/vault.ts';
import { REPO_ROOT } from './processes.ts';

/**
 * The console's main-process services as browser mode composes them, for a test: an
 * in-memory vault, the simulator run from source, links that open nowhere. `parts`
 * override any of them and add the rest (short retry schedules, an environment, …).
 */
export function composeTestConsole(parts: Pick<ConsoleParts, 'home'> & Partial<ConsoleParts>): ComposedConsole {
  return composeConsole({
    vault: new MemoryVault(),
    launcher: new NodeProcessLauncher(join(REPO_ROOT, 'agent-sim/offline.ts')),
    appInfo: { version: '0.0.0-test', mode: 'browser', platform: process.platform },
    openExternal: async () => undefined,
    ...parts,
  });
}
