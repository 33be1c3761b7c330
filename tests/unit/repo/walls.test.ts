import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;
const eslint = new ESLint({ cwd: root });

/** The no-restricted-imports messages ESLint gives `code` as if it stood at `file`. */
async function wallsHit(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

/** Every TypeScript file of a folder of the repository, relative to the root. */
function sourcesOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.tsx?$/.test(e.name)) out.push(relative(root, p));
    }
  };
  walk(join(root, dir));
  return out;
}

describe('the walls of the house (lint)', () => {
  const refused: [room: string, file: string, importLine: string][] = [
    ['the contract imports no program', 'contract/api/x.ts', "import { buildServer } from '../../server/app.ts';"],
    ['the contract imports no Node-only helper', 'contract/x.ts', "import { HashChain } from '#node-lib/hash-chain';"],
    ['the contract imports no Node', 'contract/x.ts', "import { readFileSync } from 'node:fs';"],
    ['node-lib imports no program', 'node-lib/x.ts', "import { ConsoleService } from '../src/main/services/console-service.ts';"],
    ['the server imports no console', 'server/x/y.ts', "import { ConsoleService } from '../../src/main/services/console-service.ts';"],
    ['the server imports no agent', 'server/x/y.ts', "import { Agent } from '../../agent-sim/agent/agent.ts';"],
    ['the agent imports no server', 'agent-sim/agent/x.ts', "import { buildServer } from '../../server/app.ts';"],
    ['the agent imports no console', 'agent-sim/agent/x.ts', "import { ServerConnection } from '../../src/main/services/server-connection.ts';"],
    ['the agent imports no simulated equipment', 'agent-sim/agent/x.ts', "import { createSimulatedDevice } from '../devices/index.ts';"],
    ['the simulated equipment imports no server', 'agent-sim/devices/x.ts', "import { buildServer } from '../../server/app.ts';"],
    ['the simulator imports no console', 'agent-sim/x.ts', "import { ConsoleService } from '../src/main/services/console-service.ts';"],
    ['the console imports no server', 'src/main/services/x.ts', "import { buildServer } from '../../../server/app.ts';"],
    ['the console imports no agent', 'src/main/x.ts', "import { Agent } from '../../agent-sim/agent/agent.ts';"],
    ['the renderer imports no Node-only helper', 'src/renderer/x.ts', "import { HashChain } from '#node-lib/hash-chain';"],
    ['the preload imports no Node-only helper', 'src/preload/x.ts', "import { HashChain } from '#node-lib/hash-chain';"],
    ['no program climbs into the contract', 'server/x/y.ts', "import { TetherError } from '../../contract/errors.ts';"],
    ['no test climbs into the contract', 'tests/unit/x.test.ts', "import { TetherError } from '../../contract/errors.ts';"],
  ];

  it.each(refused)('%s', async (_room, file, line) => {
    expect(await wallsHit(file, `${line}\nexport const used = 1;\n`)).toHaveLength(1);
  });

  const allowed: [room: string, file: string, importLine: string][] = [
    ['the server names the contract', 'server/x/y.ts', "import { TetherError } from '#contract/errors';"],
    ['the agent names the Node-only helpers', 'agent-sim/agent/x.ts', "import { HashChain } from '#node-lib/hash-chain';"],
    ['the agent owns the device interface the equipment plugs into', 'agent-sim/devices/x.ts', "import type { DeviceAdapter } from '../agent/device.ts';"],
    ['the simulator embeds the server', 'agent-sim/x.ts', "import { buildServer } from '../server/app.ts';"],
    ['node-lib stands on the contract', 'node-lib/x.ts', "import { TetherError } from '#contract/errors';"],
  ];

  it.each(allowed)('%s', async (_room, file, line) => {
    expect(await wallsHit(file, `${line}\nexport const used = 1;\n`)).toEqual([]);
  });

  it('no file of a program climbs into the contract: every import of it is by name', () => {
    const climbs = ['src', 'server', 'agent-sim', 'tests', 'bench', 'scripts']
      .flatMap(sourcesOf)
      .filter((file) => /^\s*(import\b|export\b|\})[^'\n]*\bfrom\s+'(\.\.\/)+(src\/shared|contract|node-lib)\//m.test(readFileSync(join(root, file), 'utf8')));
    expect(climbs).toEqual([]);
  });
});
