import type { ScenarioResult } from './scenario.ts';
import { ratio } from './stats.ts';

/** The issue's goal for one server process. */
export const TARGET = { p99Ms: 300, withinOfBare: 1.5, atAgents: 15_000 } as const;

export interface BenchConfig {
  agents: number;
  burst: number;
  pollWindowMs: number;
  /** Where agents kept their files: fsyncs of thousands of agents in one process are not a device's disk. */
  agentDataDir: string;
  cores: number;
}

/**
 * Below this growth RSS per agent is noise (the heap already had room for the sockets), and
 * a ratio of two noises means nothing.
 */
export const RSS_NOISE_FLOOR_BYTES = 8 * 1024 * 1024;

function rssGrowth(r: ScenarioResult): number {
  return r.rss.connectedBytes - r.rss.idleBytes;
}

/** Tether ÷ bare for the figures the target speaks of. */
export interface Comparison {
  p50: number | null;
  p99: number | null;
  rssPerAgent: number | null;
}

export function compare(tether: ScenarioResult, bare: ScenarioResult): Comparison {
  return {
    p50: ratio(tether.burst.latencyMs.p50, bare.burst.latencyMs.p50),
    p99: ratio(tether.burst.latencyMs.p99, bare.burst.latencyMs.p99),
    rssPerAgent: Math.min(rssGrowth(tether), rssGrowth(bare)) < RSS_NOISE_FLOOR_BYTES ? null : ratio(tether.rss.perAgentKiB, bare.rss.perAgentKiB),
  };
}

function num(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

function times(value: number | null): string {
  return value === null ? '–' : `${value.toFixed(2)}×`;
}

const MiB = 1024 * 1024;

/** The printed report: one table of both scenarios, the ratios, the target and how this run compares. */
export function formatReport(config: BenchConfig, tether: ScenarioResult, bare: ScenarioResult): string {
  const ratios = compare(tether, bare);
  const both = (pick: (r: ScenarioResult) => string): [string, string] => [pick(tether), pick(bare)];
  const rows: [string, string, string, string][] = [
    ['server setup + provisioning (s)', ...both((r) => num(r.setupMs / 1000)), ''],
    ['enrollment (enrollments/s)', num(tether.enrollment?.perSecond), '–', ''],
    ['enrolled / failed', `${tether.enrollment?.enrolled ?? 0} / ${tether.enrollment?.failed ?? 0}`, '–', ''],
    ['all polls held after start (s)', ...both((r) => num(r.connect.ms / 1000)), ''],
    ['held polls (most seen / expected)', ...both((r) => `${r.connect.held}/${r.connect.expected}`), ''],
    ['server RSS idle (MiB)', ...both((r) => num(r.rss.idleBytes / MiB)), ''],
    ['server RSS, all connected (MiB)', ...both((r) => num(r.rss.connectedBytes / MiB)), ''],
    ['server RSS per agent (KiB)', ...both((r) => num(r.rss.perAgentKiB)), times(ratios.rssPerAgent)],
    [`polls/s, no commands (W=${config.pollWindowMs} ms)`, ...both((r) => num(r.steady.pollsPerSecond)), ''],
    ['  measured over (s)', ...both((r) => num(r.steady.windowMs / 1000)), ''],
    ['  server CPU (% of one core)', ...both((r) => num(r.steady.serverCpuPercent)), ''],
    ['  agent processes CPU (% of one core)', ...both((r) => num(r.steady.agentCpuPercent)), ''],
    ['burst: commands arrived / sent', ...both((r) => `${r.burst.arrived}/${r.burst.sent}${r.burst.failed ? ` (${r.burst.failed} not created)` : ''}`), ''],
    ['dispatch latency p50 (ms)', ...both((r) => num(r.burst.latencyMs.p50)), times(ratios.p50)],
    ['dispatch latency p90 (ms)', ...both((r) => num(r.burst.latencyMs.p90)), ''],
    ['dispatch latency p99 (ms)', ...both((r) => num(r.burst.latencyMs.p99)), times(ratios.p99)],
    ['dispatch latency max (ms)', ...both((r) => num(r.burst.latencyMs.max)), ''],
    ['  of which in the server: p50 (ms)', ...both((r) => num(r.burst.serverLatencyMs.p50)), ''],
    ['  of which in the server: p99 (ms)', ...both((r) => num(r.burst.serverLatencyMs.p99)), ''],
    ['burst: first creation → last receipt (ms)', ...both((r) => num(r.burst.spanMs)), ''],
    ['burst: server CPU (ms)', ...both((r) => num(r.burst.serverCpuMs)), ''],
    ['burst: agent processes CPU (ms)', ...both((r) => num(r.burst.agentCpuMs)), ''],
    ['connection errors seen by agents', ...both((r) => String(r.connectionErrors)), ''],
  ];
  const head: [string, string, string, string] = ['', 'tether', 'bare', 'tether/bare'];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...[head, ...rows].map((row) => row[i]?.length ?? 0)));
  const line = (row: readonly string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[i] ?? 0))).join('   ').trimEnd();

  const p99 = tether.burst.latencyMs.p99;
  const verdict = [
    `p99 ${num(p99)} ms ${p99 !== null && p99 <= TARGET.p99Ms ? 'meets' : 'misses'} ≤ ${TARGET.p99Ms} ms`,
    `tether/bare p99 ${times(ratios.p99)} ${ratios.p99 !== null && ratios.p99 <= TARGET.withinOfBare ? 'meets' : 'misses'} ≤ ${TARGET.withinOfBare}×`,
  ].join('; ');
  const errors = [tether, bare].flatMap((r) => [
    ...(rssGrowth(r) < RSS_NOISE_FLOOR_BYTES
      ? [`${r.mode}: RSS grew only ${num(rssGrowth(r) / MiB)} MiB with all agents connected — RSS per agent is noise at this N (no ratio)`]
      : []),
    ...(r.enrollment?.firstError ? [`${r.mode}: first enrollment error: ${r.enrollment.firstError}`] : []),
    ...(r.burst.firstError ? [`${r.mode}: first command creation error: ${r.burst.firstError}`] : []),
    ...(r.lastConnectionError ? [`${r.mode}: last connection error: ${r.lastConnectionError}`] : []),
  ]);

  return [
    `Agents benchmark — N=${config.agents} agents in ${tether.agentProcesses} agent process(es), burst K=${config.burst}, poll window W=${config.pollWindowMs} ms, ${config.cores} cores`,
    `target (issue): p99 ≤ ${TARGET.p99Ms} ms and within ${TARGET.withinOfBare}× of bare at ${TARGET.atAgents.toLocaleString('en-US')} agents per server process`,
    '',
    line(head),
    ...rows.map(line),
    '',
    `this run (N=${config.agents}): ${verdict}`,
    ...errors,
    '',
    'notes:',
    '  tether = the real server (buildServer, SQLite, mTLS + device secret) and the real agent core with a quiet device',
    '  (fixed values, no signals); bare = node:https holding polls in a Map, no database, no auth, no client certificate.',
    '  dispatch latency = receipt on the agent (its `polled` event) − the moment just before the command was created;',
    '  "in the server" ends when the server hands the command to its poll answer (tether: the `delivered` state change).',
    `  polls/s is the natural rate at the configured window (≈ N/W); it is measured over max(10 s, W) because agents`,
    '  that start together poll in waves. For a throughput figure under load, run again with a short --window-ms.',
    '  CPU % is of one core; server, agents and orchestrator share the same cores, so agent work competes with the server.',
    '  Up to 2,500 agents share one agent process (one core): when its burst CPU nears the burst span, receipts queue in',
    '  the agents rather than the server — the "in the server" rows are the part the server is responsible for.',
    `  agent data dirs: ${config.agentDataDir} (thousands of agents' fsyncs in one process would otherwise stand in for one disk).`,
  ].join('\n');
}

/** The one JSON line `--json` prints: configuration, both scenarios, the ratios and the target. */
export function jsonReport(config: BenchConfig, tether: ScenarioResult, bare: ScenarioResult): string {
  return JSON.stringify({ config, target: TARGET, tether, bare, ratios: compare(tether, bare) });
}
