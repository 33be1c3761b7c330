import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_ROUTES } from '#contract/http/agent-routes';
import { API_ROUTES } from '#contract/http/api-routes';

const root = new URL('../../../', import.meta.url).pathname;

/** Product code: the programs and the ground floor, except the route table itself. */
function productSources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (path !== 'contract/http') walk(path);
      } else if (/\.tsx?$/.test(e.name)) out.push(path);
    }
  };
  for (const dir of ['src', 'server', 'agent-sim', 'node-lib', 'contract']) walk(dir);
  return out;
}

/** The first segments of every route path, and the two prefixes. */
const segments = [
  ...new Set([API_ROUTES, AGENT_ROUTES].flatMap((t) => [t.prefix, ...Object.values(t.routes).map((r) => `/${r.path.split('/')[1]}`)])),
].map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

/** A quoted string or template starting with one of them: a path written by hand. */
const handWrittenPath = new RegExp(`['"\`](${segments.join('|')})(?=[/'"\`?$])`);

const withoutComments = (source: string) => source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

describe('HTTP paths', () => {
  it('are written only in the route table (contract/http): everything else builds them from it', () => {
    const offenders = productSources().flatMap((file) =>
      withoutComments(readFileSync(join(root, file), 'utf8'))
        .split('\n')
        .filter((line) => handWrittenPath.test(line))
        .map((line) => `${relative(root, join(root, file))}: ${line.trim()}`),
    );
    expect(offenders).toEqual([]);
  });

  it('would be found: the check recognises a path written by hand', () => {
    expect(handWrittenPath.test("const url = `/api/v1/devices/${id}`;")).toBe(true);
    expect(handWrittenPath.test("app.get('/devices/:id', handler)")).toBe(true);
    expect(handWrittenPath.test("post('/agent/v1/poll')")).toBe(true);
    expect(handWrittenPath.test("const folder = '/logs/service';")).toBe(false);
  });
});
