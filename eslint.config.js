import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';

const nodeBuiltins = ['node:*', 'fs', 'path', 'child_process', 'net', 'tls', 'http', 'https', 'os', 'crypto'];

/**
 * The walls of the house (docs/architecture.md). Each room lists what it must not import;
 * a file gets one rule, so every room names all of its walls.
 */
const wall = (group, message) => ({ group, message });
/** A wall around an aliased room (`#…` cannot be a gitignore-style group: `#` starts a comment there). */
const aliasWall = (alias, message) => ({ regex: `^${alias}/`, message });
const noNodeLib = aliasWall('#node-lib', 'Node-only helpers are for the server, the agent and the console main process');
const noClimbIntoContract = wall(['**/contract/**', '**/node-lib/**', '**/src/shared/**'], 'import the contract by name (#contract/…, #node-lib/…), not by a relative climb');
const noConsole = wall(['**/src/main/**', '**/src/renderer/**', '**/src/preload/**', 'electron'], 'the console is a program of its own: reach it over HTTPS, never by import');
const noServer = wall(['**/server/**'], 'the server is a program of its own: reach it over HTTPS, never by import');
const noAgent = wall(['**/agent-sim/**'], 'the agent is a program of its own: reach it over its protocol, never by import');
const noDevices = wall(['**/devices/**'], 'the agent core never imports the simulated equipment: a device plugs in through agent/device.ts');
const restrict = (...patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'coverage/', '.tether/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='only']", message: 'focused tests (.only) must not be committed' },
      ],
    },
  },
  {
    // Everything outside the two ground-floor rooms names them, never climbs into them.
    files: ['**/*.{ts,tsx}'],
    ignores: ['contract/**', 'node-lib/**'],
    rules: restrict(noClimbIntoContract),
  },
  {
    // The contract stands on the ground floor: no program, no Node-only helper, no Node.
    files: ['contract/**/*.ts'],
    rules: restrict(wall(nodeBuiltins, 'the contract is loaded by the renderer too: Node-only helpers go in node-lib/'), noNodeLib, noConsole, noServer, noAgent),
  },
  {
    // Node-only helpers shared by the programs: they stand on the contract and import no program.
    files: ['node-lib/**/*.ts'],
    rules: restrict(wall(['**/contract/**'], 'import the contract by name (#contract/…)'), noConsole, noServer, noAgent),
  },
  {
    // The hosted server: neither the console nor the agent.
    files: ['server/**/*.ts'],
    rules: restrict(noClimbIntoContract, noConsole, noAgent),
  },
  {
    // The agent core: no server, no console, no simulated equipment.
    files: ['agent-sim/agent/**/*.ts'],
    rules: restrict(noClimbIntoContract, noConsole, noServer, noDevices),
  },
  {
    // The simulated equipment plugs into the agent; it knows no server and no console.
    files: ['agent-sim/devices/**/*.ts'],
    rules: restrict(noClimbIntoContract, noConsole, noServer),
  },
  {
    // The simulator (fleet, offline, provision) embeds a server on purpose, never the console.
    files: ['agent-sim/*.ts'],
    rules: restrict(noClimbIntoContract, noConsole),
  },
  {
    // Console main process: Electron only at the edges (index.ts, electron/); no server or agent code.
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/index.ts', 'src/main/electron/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'only src/main/index.ts and src/main/electron/ import electron' }],
        patterns: [noClimbIntoContract, noServer, noAgent, wall(['**/renderer/**'], 'the main process talks to the renderer through the contract')],
      }],
    },
  },
  {
    // ipcMain is wired in one place; everything else goes through the contract binders.
    files: ['src/main/index.ts', 'src/main/electron/**/*.ts'],
    rules: restrict(noClimbIntoContract, noServer, noAgent, wall(['**/renderer/**'], 'no renderer code in the main process')),
  },
  {
    // The renderer: browser code only, talking to the contract.
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'the renderer uses window.tether, never ipcRenderer' }],
        patterns: [
          noClimbIntoContract,
          wall(nodeBuiltins, 'no Node modules in the renderer'),
          wall(['**/main/**', '**/preload/**', '**/server/**', '**/agent-sim/**'], 'the renderer depends only on the contract'),
          noNodeLib,
        ],
      }],
    },
  },
  {
    files: ['src/preload/**/*.ts'],
    rules: restrict(noClimbIntoContract, noNodeLib, wall([...nodeBuiltins, '**/main/**', '**/renderer/**', '**/server/**', '**/agent-sim/**'], 'the sandboxed preload may use only electron and the contract')),
  },
);
