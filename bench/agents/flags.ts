import { parseArgs } from 'node:util';

export const USAGE = `usage: npm run bench:agents -- [--agents N] [--burst K] [--window-ms W] [--json]
  --agents N      agents long-polling one server process (default 2000)
  --burst K       commands created at once, one each to K distinct agents (default min(N, 1000))
  --window-ms W   the server's poll window in ms, 100..120000 (default 25000)
  --json          also print one JSON line with every figure at the end
environment:
  TETHER_BENCH_PROFILE_DIR   write every child process's V8 CPU profiles there (node --cpu-prof)`;

export interface BenchFlags {
  agents: number;
  burst: number;
  pollWindowMs: number;
  json: boolean;
  help: boolean;
}

/** A command line the benchmark cannot run: the caller prints the message and USAGE, exit 2. */
export class UsageError extends Error {}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

/** Reads the benchmark's flags strictly: an unknown flag or a bad number is a UsageError. */
export function parseBenchFlags(argv: readonly string[]): BenchFlags {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        agents: { type: 'string' },
        burst: { type: 'string' },
        'window-ms': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const agents = integer('agents', values.agents, 2000, 1, 1_000_000);
  const burst = integer('burst', values.burst, Math.min(agents, 1000), 1, agents);
  const pollWindowMs = integer('window-ms', values['window-ms'], 25_000, 100, 120_000);
  return { agents, burst, pollWindowMs, json: values.json, help: values.help };
}
