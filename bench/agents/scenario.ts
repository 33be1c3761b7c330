import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentCounters, AgentEvent, AgentRequests, BenchMode, ServerRequests } from './messages.ts';
import { BenchChild, benchNow } from './rpc.ts';
import { type LatencySummary, cpuMs, cpuPercent, spreadPick, splitEvenly, summarizeLatencies } from './stats.ts';

/** Most devices one agent process plays: each Tether agent holds 2 files and up to 2 sockets. */
export const AGENTS_PER_PROCESS = 2500;
/** Enrollments in flight at once, per agent process. */
export const ENROLL_CONCURRENCY = 32;
/** The shortest span polls/s and CPU are measured over. */
const MIN_STEADY_WINDOW_MS = 10_000;

export interface ScenarioOptions {
  agents: number;
  burst: number;
  pollWindowMs: number;
  /** Where the server's data dir goes. */
  serverRoot: string;
  /** Where the agents' data dirs go. */
  agentRoot: string;
  progress: (message: string) => void;
  /** When set, every child process writes V8 CPU profiles under `<dir>/<mode>-<role>/` (node --cpu-prof). */
  profileDir?: string | undefined;
}

/** Everything one scenario measured. Times in ms, sizes in bytes unless named otherwise. */
export interface ScenarioResult {
  mode: BenchMode;
  agents: number;
  agentProcesses: number;
  setupMs: number;
  enrollment: { enrolled: number; failed: number; firstError?: string; ms: number; perSecond: number } | null;
  connect: { expected: number; held: number; ms: number };
  rss: { idleBytes: number; connectedBytes: number; perAgentKiB: number };
  steady: { windowMs: number; pollAnswers: number; pollsPerSecond: number; serverCpuPercent: number; agentCpuPercent: number };
  burst: {
    sent: number;
    failed: number;
    firstError?: string;
    arrived: number;
    latencyMs: LatencySummary;
    /** Creation → the server handing the command to its poll answer (see ServerUnderTest.handedOverAt). */
    serverLatencyMs: LatencySummary;
    /** From the first creation to the last receipt (or the deadline). */
    spanMs: number;
    serverCpuMs: number;
    /** All agent processes together, over the same span as serverCpuMs. */
    agentCpuMs: number;
  };
  connectionErrors: number;
  lastConnectionError?: string;
}

type AgentProcess = BenchChild<AgentRequests, AgentEvent>;

const SERVER_SCRIPT = new URL('./server-process.ts', import.meta.url);
const AGENT_SCRIPT = new URL('./agent-process.ts', import.meta.url);

async function sumCounters(processes: readonly AgentProcess[]): Promise<AgentCounters> {
  const all = await Promise.all(processes.map((p) => p.call('counters', {})));
  const total: AgentCounters = { pollAnswers: 0, connectionErrors: 0, rssBytes: 0, cpuUserMicros: 0, cpuSystemMicros: 0, at: benchNow() };
  for (const c of all) {
    total.pollAnswers += c.pollAnswers;
    total.connectionErrors += c.connectionErrors;
    total.rssBytes += c.rssBytes;
    total.cpuUserMicros += c.cpuUserMicros;
    total.cpuSystemMicros += c.cpuSystemMicros;
    if (c.lastConnectionError) total.lastConnectionError = c.lastConnectionError;
  }
  return total;
}

/** Waits until the server holds `expected` polls, or gives up at `timeoutMs`; returns the most seen. */
async function waitForHeldPolls(server: BenchChild<ServerRequests>, expected: number, timeoutMs: number): Promise<{ held: number; ms: number }> {
  const started = benchNow();
  let most = 0;
  for (;;) {
    const { heldPolls } = await server.call('figures', { gc: false });
    most = Math.max(most, heldPolls);
    if (heldPolls >= expected || benchNow() - started > timeoutMs) return { held: most, ms: benchNow() - started };
    await sleep(250);
  }
}

/** Poll answers and CPU over `windowMs` with no commands. */
async function measureSteady(server: BenchChild<ServerRequests>, agentProcesses: readonly AgentProcess[], windowMs: number): Promise<ScenarioResult['steady']> {
  const [s0, a0] = await Promise.all([server.call('figures', { gc: false }), sumCounters(agentProcesses)]);
  await sleep(windowMs);
  const [s1, a1] = await Promise.all([server.call('figures', { gc: false }), sumCounters(agentProcesses)]);
  const wallMs = s1.at - s0.at;
  return {
    windowMs: wallMs,
    pollAnswers: a1.pollAnswers - a0.pollAnswers,
    pollsPerSecond: (a1.pollAnswers - a0.pollAnswers) / (wallMs / 1000),
    serverCpuPercent: cpuPercent(cpuMs(s0, s1), wallMs),
    agentCpuPercent: cpuPercent(cpuMs(a0, a1), a1.at - a0.at),
  };
}

/**
 * One command to each target at once; waits until all arrived or `waitMs` after the last
 * was created (long enough for a missed wake-up to show as a poll window's delay).
 */
async function measureBurst(
  server: BenchChild<ServerRequests>,
  agentProcesses: readonly AgentProcess[],
  receipts: ReadonlyMap<string, number>,
  targets: string[],
  waitMs: number,
): Promise<{ figures: ScenarioResult['burst']; counters: AgentCounters }> {
  const [s0, a0] = await Promise.all([server.call('figures', { gc: false }), sumCounters(agentProcesses)]);
  const burst = await server.call('burst', { deviceIds: targets });
  const deadline = benchNow() + waitMs;
  const arrivedCount = () => burst.commands.reduce((n, c) => n + (receipts.has(c.commandId) ? 1 : 0), 0);
  while (arrivedCount() < burst.commands.length && benchNow() < deadline) await sleep(50);
  const [s1, a1] = await Promise.all([server.call('figures', { gc: false }), sumCounters(agentProcesses)]);
  const handovers = new Map(await server.call('handovers', { commandIds: burst.commands.map((c) => c.commandId) }));
  const since = (times: ReadonlyMap<string, number>) =>
    burst.commands.flatMap((c) => {
      const at = times.get(c.commandId);
      return at === undefined ? [] : [at - c.createdAt];
    });
  const latencies = since(receipts);
  const firstCreated = Math.min(...burst.commands.map((c) => c.createdAt));
  const lastReceived = Math.max(...burst.commands.map((c) => receipts.get(c.commandId) ?? deadline));
  return {
    figures: {
      sent: burst.commands.length,
      failed: burst.failed,
      ...(burst.firstError ? { firstError: burst.firstError } : {}),
      arrived: latencies.length,
      latencyMs: summarizeLatencies(latencies),
      serverLatencyMs: summarizeLatencies(since(handovers)),
      spanMs: burst.commands.length ? lastReceived - firstCreated : 0,
      serverCpuMs: cpuMs(s0, s1),
      agentCpuMs: cpuMs(a0, a1),
    },
    counters: a1,
  };
}

/**
 * One scenario, start to end: a server process (`mode`), agent processes of at most
 * AGENTS_PER_PROCESS devices each, then the measurements in order — idle RSS, enrollment,
 * connection, connected RSS, a quiet steady window, a command burst — and a clean stop.
 */
export async function runScenario(mode: BenchMode, options: ScenarioOptions): Promise<ScenarioResult> {
  const { agents, pollWindowMs, progress } = options;
  const receipts = new Map<string, number>();
  const onEvent = (event: AgentEvent) => {
    for (const [commandId, at] of event.receipts) if (!receipts.has(commandId)) receipts.set(commandId, at);
  };
  const profile = (role: string) => (options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.profileDir, `${mode}-${role}`)}`] : []);
  const server = new BenchChild<ServerRequests>(`${mode} server process`, SERVER_SCRIPT, undefined, profile('server'));
  const agentProcesses: AgentProcess[] = [];
  try {
    progress(`${mode}: starting the server and provisioning ${agents} devices`);
    const ready = await server.call('setup', { mode, agents, pollWindowMs, dataDir: join(options.serverRoot, mode) });
    await sleep(1000);
    const idle = await server.call('figures', { gc: true });

    const slices = splitEvenly(ready.devices, Math.ceil(agents / AGENTS_PER_PROCESS));
    slices.forEach((_, i) => agentProcesses.push(new BenchChild<AgentRequests, AgentEvent>(`${mode} agent process ${i + 1}`, AGENT_SCRIPT, onEvent, profile(`agents-${i + 1}`))));
    progress(`${mode}: ${mode === 'tether' ? 'enrolling' : 'preparing'} ${agents} agents in ${slices.length} process(es)`);
    const enrollStarted = benchNow();
    const outcomes = await Promise.all(
      agentProcesses.map((p, i) =>
        p.call('setup', {
          mode,
          serverUrl: ready.url,
          caPem: ready.caPem,
          devices: slices[i] ?? [],
          dataDir: join(options.agentRoot, mode),
          enrollConcurrency: ENROLL_CONCURRENCY,
        }),
      ),
    );
    const enrollMs = benchNow() - enrollStarted;
    const enrolled = outcomes.reduce((n, o) => n + o.enrolled, 0);
    const enrollFailed = outcomes.reduce((n, o) => n + o.failed, 0);
    const enrollError = outcomes.find((o) => o.firstError)?.firstError;

    progress(`${mode}: starting ${enrolled} agents, waiting until the server holds ${enrolled} polls`);
    const connectStarted = benchNow();
    await Promise.all(agentProcesses.map((p) => p.call('start', {})));
    const held = await waitForHeldPolls(server, enrolled, 60_000 + 20 * enrolled);
    const connectMs = benchNow() - connectStarted;
    await sleep(2000);
    const connected = await server.call('figures', { gc: true });

    const windowMs = Math.max(MIN_STEADY_WINDOW_MS, pollWindowMs);
    progress(`${mode}: measuring polls/s and CPU over ${(windowMs / 1000).toFixed(0)} s without commands`);
    const steady = await measureSteady(server, agentProcesses, windowMs);

    const targets = spreadPick(ready.devices.map((d) => d.deviceId), options.burst);
    progress(`${mode}: burst of ${targets.length} commands to ${targets.length} agents`);
    const burst = await measureBurst(server, agentProcesses, receipts, targets, pollWindowMs + 10_000);

    progress(`${mode}: stopping`);
    await Promise.all(agentProcesses.map(async (p) => {
      await p.call('stop', {});
      await p.end(10_000);
    }));
    await server.call('stop', {});
    await server.end(10_000);

    return {
      mode,
      agents,
      agentProcesses: agentProcesses.length,
      setupMs: ready.setupMs,
      enrollment: mode === 'tether'
        ? { enrolled, failed: enrollFailed, ...(enrollError ? { firstError: enrollError } : {}), ms: enrollMs, perSecond: enrolled / (enrollMs / 1000) }
        : null,
      connect: { expected: enrolled, held: held.held, ms: connectMs },
      rss: { idleBytes: idle.rssBytes, connectedBytes: connected.rssBytes, perAgentKiB: (connected.rssBytes - idle.rssBytes) / 1024 / agents },
      steady,
      burst: burst.figures,
      connectionErrors: burst.counters.connectionErrors,
      ...(burst.counters.lastConnectionError ? { lastConnectionError: burst.counters.lastConnectionError } : {}),
    };
  } finally {
    for (const child of [server, ...agentProcesses]) child.kill();
  }
}
