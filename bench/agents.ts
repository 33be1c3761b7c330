/**
 * `npm run bench:agents`: N device agents long-polling one server process. Runs two
 * scenarios one after the other — the real Tether server with the real agent core, then
 * a bare node:https long-poll server with minimal clients as the floor — and prints both,
 * with the ratios tether/bare and the target. See bench/agents/ for the parts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { USAGE, UsageError, parseBenchFlags, type BenchFlags } from './agents/flags.ts';
import { type BenchConfig, formatReport, jsonReport } from './agents/report.ts';
import { runScenario } from './agents/scenario.ts';

function readFlags(): BenchFlags {
  try {
    return parseBenchFlags(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exit(2);
  }
}

const flags = readFlags();
if (flags.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

// Agents' files on tmpfs when there is one: thousands of agents fsyncing in one process
// would otherwise measure one shared disk, not the server.
const agentBase = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const serverRoot = mkdtempSync(join(tmpdir(), 'tether-bench-server-'));
const agentRoot = mkdtempSync(join(agentBase, 'tether-bench-agents-'));
const removeTemp = () => {
  rmSync(serverRoot, { recursive: true, force: true });
  rmSync(agentRoot, { recursive: true, force: true });
};
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    removeTemp();
    process.exit(code);
  });
}

const started = performance.now();
const progress = (message: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
const config: BenchConfig = { agents: flags.agents, burst: flags.burst, pollWindowMs: flags.pollWindowMs, agentDataDir: agentBase, cores: availableParallelism() };
const options = {
  agents: flags.agents,
  burst: flags.burst,
  pollWindowMs: flags.pollWindowMs,
  serverRoot,
  agentRoot,
  progress,
  profileDir: process.env.TETHER_BENCH_PROFILE_DIR || undefined,
};

try {
  const tether = await runScenario('tether', options);
  const bare = await runScenario('bare', options);
  process.stdout.write(`\n${formatReport(config, tether, bare)}\n`);
  if (flags.json) process.stdout.write(`${jsonReport(config, tether, bare)}\n`);
  progress('done');
} catch (err) {
  process.stderr.write(`benchmark failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
} finally {
  removeTemp();
}
