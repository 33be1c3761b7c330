import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';

const nodeBuiltins = ['node:*', 'fs', 'path', 'child_process', 'net', 'tls', 'http', 'https', 'os', 'crypto'];

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
    // The hosted server and the agent never reach into the console.
    files: ['server/**/*.ts', 'agent-sim/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/main/**', '**/src/renderer/**', '**/src/preload/**', 'electron'], message: 'server and agent depend only on src/shared' }] }],
    },
  },
  {
    // The agent is its own program: it must not import the server.
    files: ['agent-sim/agent/**/*.ts', 'agent-sim/devices/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/server/**', '**/src/main/**', '**/src/renderer/**', 'electron'], message: 'the agent depends only on src/shared' }] }],
    },
  },
  {
    // The contract is shared by all three programs; only src/shared/node may use Node.
    files: ['src/shared/**/*.ts'],
    ignores: ['src/shared/node/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: nodeBuiltins, message: 'src/shared is loaded by the renderer too; put Node-only helpers in src/shared/node' }] }],
    },
  },
  {
    // Console main process: Electron only at the edges (index.ts, electron/); no server or agent code.
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/index.ts', 'src/main/electron/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'only src/main/index.ts and src/main/electron/ import electron' }], patterns: [{ group: ['**/server/**', '**/agent-sim/**', '**/renderer/**'], message: 'the console main process talks to the server over HTTPS, not by importing it' }] }],
    },
  },
  {
    // ipcMain is wired in one place; everything else goes through the contract binders.
    files: ['src/main/index.ts', 'src/main/electron/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/server/**', '**/agent-sim/**', '**/renderer/**'], message: 'no server, agent or renderer code in the main process' }] }],
    },
  },
  {
    // The renderer: browser code only, talking to the contract.
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'the renderer uses window.tether, never ipcRenderer' }], patterns: [{ group: nodeBuiltins, message: 'no Node modules in the renderer' }, { group: ['**/main/**', '**/preload/**', '**/server/**', '**/agent-sim/**', '**/shared/node/**'], message: 'the renderer depends only on src/shared' }] }],
    },
  },
  {
    files: ['src/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: [...nodeBuiltins, '**/main/**', '**/renderer/**', '**/server/**', '**/agent-sim/**', '**/shared/node/**'], message: 'the sandboxed preload may use only electron and src/shared' }] }],
    },
  },
);
