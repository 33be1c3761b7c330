import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

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
);
