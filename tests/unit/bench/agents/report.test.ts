import { describe, expect, it } from 'vitest';
import { compare, formatReport, jsonReport } from '../../../../bench/agents/report.ts';
import type { ScenarioResult } from '../../../../bench/agents/scenario.ts';
import { summarizeLatencies } from '../../../../bench/agents/stats.ts';

const MiB = 1024 * 1024;

function scenario(mode: 'tether' | 'bare', latencies: number[], rssGrowthMiB: number): ScenarioResult {
  const agents = 2000;
  return {
    mode,
    agents,
    agentProcesses: 1,
    setupMs: 1000,
    enrollment: mode === 'tether' ? { enrolled: agents, failed: 0, ms: 40_000, perSecond: 50 } : null,
    connect: { expected: agents, held: agents, ms: 5000 },
    rss: { idleBytes: 150 * MiB, connectedBytes: (150 + rssGrowthMiB) * MiB, perAgentKiB: (rssGrowthMiB * 1024) / agents },
    steady: { windowMs: 25_000, pollAnswers: 2000, pollsPerSecond: 80, serverCpuPercent: 10, agentCpuPercent: 5 },
    burst: {
      sent: latencies.length,
      failed: 0,
      arrived: latencies.length,
      latencyMs: summarizeLatencies(latencies),
      serverLatencyMs: summarizeLatencies(latencies.map((l) => l / 2)),
      spanMs: Math.max(...latencies),
      serverCpuMs: 100,
      agentCpuMs: 100,
    },
    connectionErrors: 0,
  };
}

describe('agents benchmark report', () => {
  it('states the target and whether this run meets it', () => {
    const text = formatReport(
      { agents: 2000, burst: 100, pollWindowMs: 25_000, agentDataDir: '/dev/shm', cores: 2 },
      scenario('tether', Array.from({ length: 100 }, (_, i) => 100 + i), 160),
      scenario('bare', Array.from({ length: 100 }, (_, i) => 80 + i), 80),
    );
    expect(text).toContain('target (issue): p99 ≤ 300 ms and within 1.5× of bare at 15,000 agents per server process');
    expect(text).toContain('p99 198.0 ms meets ≤ 300 ms; tether/bare p99 1.11× meets ≤ 1.5×');
    expect(text).toMatch(/server RSS per agent \(KiB\)\s+81\.9\s+41\.0\s+2\.00×/);
  });

  it('gives tether/bare ratios, and none for RSS when RSS hardly grew', () => {
    const tether = scenario('tether', [400, 600], 160);
    expect(compare(tether, scenario('bare', [100, 200], 80))).toEqual({ p50: 4, p99: 3, rssPerAgent: 2 });
    const noisy = scenario('bare', [100, 200], 0.5);
    expect(compare(tether, noisy).rssPerAgent).toBeNull();
    expect(formatReport({ agents: 2000, burst: 2, pollWindowMs: 25_000, agentDataDir: '/tmp', cores: 2 }, tether, noisy)).toContain('bare: RSS grew only 0.5 MiB');
  });

  it('prints one parseable JSON line with both scenarios and the ratios', () => {
    const line = jsonReport({ agents: 2000, burst: 2, pollWindowMs: 25_000, agentDataDir: '/tmp', cores: 2 }, scenario('tether', [400, 600], 160), scenario('bare', [100, 200], 80));
    expect(line).not.toContain('\n');
    const parsed = JSON.parse(line) as { tether: ScenarioResult; bare: ScenarioResult; ratios: { p99: number } };
    expect(parsed.ratios.p99).toBe(3);
    expect(parsed.bare.burst.latencyMs.p50).toBe(100);
  });
});
