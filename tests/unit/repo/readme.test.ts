import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('README and CI stay in step', () => {
  const readme = read('README.md');
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  const commands = firstBlock.split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);

  it('opens with the two set-up commands: run the console, pass every test', () => {
    expect(readme.indexOf('```sh')).toBeLessThan(readme.indexOf('##'));
    expect(commands).toEqual(['npm install && npm start', 'npm install && npm test']);
  });

  it('.ci/run runs exactly the README test command, in a fresh clone', () => {
    const ci = read('.ci/run');
    const runLines = ci.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    expect(runLines.at(-1)).toBe(commands[1]);
    expect(ci).toMatch(/git clone/);
  });

  it('names only npm scripts that exist', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const named = [...readme.matchAll(/npm (?:run )?([a-z:]+)/g)].map((m) => m[1]!).filter((s) => !['install', 'run'].includes(s));
    for (const script of new Set(named)) expect(scripts, `npm script "${script}"`).toContain(script);
  });

  it('declares the supported Node versions', () => {
    expect((JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node).toBe('^20.19.0 || >=22.0.0');
  });
});
