import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Supervisor } from '../../../agent-sim/agent/supervisor.ts';
import type { DeviceDetail, DeviceEvent } from '#contract/api/fleet';
import { seedCustomer } from '../../helpers/admin.ts';
import { runTs, spawnTs, stopChild } from '../../helpers/processes.ts';
import { type TestServer, startTestServer, tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

const AGENT_MAIN = 'agent-sim/sim-agent.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Delays the supervisor announced ("restarting in N ms"), in order. */
function restartDelays(messages: readonly string[]): number[] {
  return messages.flatMap((m) => {
    const match = /restarting in (\d+) ms/.exec(m);
    return match ? [Number(match[1])] : [];
  });
}

describe('Supervisor', () => {
  const supervisors: Supervisor[] = [];
  let dir: string;

  beforeAll(() => {
    dir = tempDir('tether-supervisor-');
  });
  afterAll(async () => {
    await Promise.all(supervisors.map((s) => s.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  function supervise(script: string, options: Partial<ConstructorParameters<typeof Supervisor>[0]> = {}) {
    const pids: number[] = [];
    const messages: string[] = [];
    const supervisor = new Supervisor({
      command: process.execPath,
      args: ['-e', script],
      backoff: { baseMs: 20, maxMs: 200 },
      log: (m) => messages.push(m),
      onStart: (child) => {
        if (child.pid !== undefined) pids.push(child.pid);
      },
      ...options,
    });
    supervisors.push(supervisor);
    supervisor.start();
    return { supervisor, pids, messages };
  }

  it('restarts a child that keeps dying, each time as a new process after a growing, jittered delay', async () => {
    const { supervisor, pids, messages } = supervise('setTimeout(() => process.exit(3), 100)');
    await waitFor(() => supervisor.restartCount >= 4 && pids.length >= 5, { timeoutMs: 20_000, what: 'four restarts' });
    expect(new Set(pids).size).toBe(pids.length);
    expect(messages[0]).toMatch(/agent exited \(code 3\); restarting in \d+ ms/);
    // restart k (k = 1, 2, …) waits a random time in [0, min(200, 20·2^k)]
    restartDelays(messages).forEach((delay, i) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(200, 20 * 2 ** (i + 1)));
    });
    await supervisor.stop();
  });

  it('starts the backoff over for a child that had stayed up past stableAfterMs', async () => {
    const { supervisor, messages } = supervise('setTimeout(() => process.exit(3), 150)', { backoff: { baseMs: 20, maxMs: 5000 }, stableAfterMs: 50 });
    await waitFor(() => supervisor.restartCount >= 4, { timeoutMs: 20_000, what: 'four restarts' });
    // every exit came after a healthy run, so no delay ever grows past the base
    const delays = restartDelays(messages);
    expect(delays.length).toBeGreaterThanOrEqual(4);
    for (const delay of delays) expect(delay).toBeLessThanOrEqual(20);
    await supervisor.stop();
  });

  it('does not restart a child that exits with a permanent code; done resolves with that code', async () => {
    const { supervisor, pids, messages } = supervise('process.exit(2)', { permanentExitCodes: [2] });
    await expect(supervisor.done).resolves.toBe(2);
    expect(supervisor.restartCount).toBe(0);
    expect(pids).toHaveLength(1);
    expect(messages).toEqual(['agent exited with code 2 (configuration error); not restarting']);
  });

  it('stop() signals the running child and ends supervision with the child\'s exit code', async () => {
    const ready = join(dir, 'ready');
    const { supervisor, pids } = supervise(
      `process.on('SIGTERM', () => process.exit(7)); require('node:fs').writeFileSync(${JSON.stringify(ready)}, 'ready'); setInterval(() => {}, 1000);`,
    );
    await waitFor(() => existsSync(ready), { what: 'child ready' });
    const pid = supervisor.pid;
    expect(pid).toBe(pids[0]);
    await expect(supervisor.stop()).resolves.toBe(7);
    expect(isAlive(pid ?? -1)).toBe(false);
    expect(supervisor.restartCount).toBe(0);
    expect(supervisor.pid).toBeUndefined();
  });

  it('stop() during the wait before a restart cancels the restart', async () => {
    let stopping: Promise<number> | undefined;
    const { supervisor, pids } = supervise('process.exit(3)', {
      backoff: { baseMs: 200, maxMs: 200 },
      // stop as soon as the restart is scheduled
      log: () => {
        setImmediate(() => {
          stopping ??= supervisor.stop();
        });
      },
    });
    await waitFor(() => stopping, { what: 'stop to be called' });
    await expect(stopping).resolves.toBe(0);
    await sleep(600); // three times the longest possible restart delay
    expect(pids).toHaveLength(1);
  });
});

/** The agent process the supervising CLI started (it is the CLI's only `--no-supervisor` child). */
function supervisedAgentPid(supervisorPid: number): number | undefined {
  const children = readFileSync(`/proc/${supervisorPid}/task/${supervisorPid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  return children.find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--no-supervisor');
    } catch {
      return false; // exited meanwhile
    }
  });
}

describe('agent CLI (npm run agent)', () => {
  let ts: TestServer;
  let dir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: 2000 });
    dir = tempDir('tether-agent-cli-');
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => stopChild(c, 'SIGKILL')));
    await ts?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 2 naming the missing flag', async () => {
    const res = await runTs(AGENT_MAIN, ['--no-supervisor']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('CONFIG_INVALID');
    expect(res.stderr).toContain('--server is required');

    const noCa = await runTs(AGENT_MAIN, ['--no-supervisor', '--server', ts.url]);
    expect(noCa.code).toBe(2);
    expect(noCa.stderr).toContain('--ca is required');
  });

  it('exits 2 with the usage for an unknown flag', async () => {
    const res = await runTs(AGENT_MAIN, ['--bogus']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Unknown option '--bogus'/);
    expect(res.stderr).toContain('usage: npm run agent');
  });

  it('supervised, a configuration error ends in exit 2 instead of a restart loop', async () => {
    const res = await runTs(AGENT_MAIN, ['--server', ts.url]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--ca is required');
    expect(res.stderr).toContain('not restarting');
  });

  it('enrolls and runs under its supervisor, comes back by itself after SIGKILL, and says goodbye on SIGTERM', async () => {
    const [d] = (await seedCustomer(ts, 'CLI Clinic', [{ serial: 'CLI-0001', modelId: 'stellant-flex' }])).devices;
    if (!d) throw new Error('seeding failed');
    const cli = spawnTs(AGENT_MAIN, [
      '--server', ts.url, '--ca', ts.server.ctx.pki.caCertPath, '--data-dir', join(dir, d.serial),
      '--enroll', d.enrollmentCode, '--model', 'stellant-flex', '--serial', d.serial,
    ], { env: { TETHER_LOG_LEVEL: 'warn' } });
    children.push(cli);
    let output = '';
    cli.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    cli.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const supervisorPid = cli.pid;
    if (supervisorPid === undefined) throw new Error('CLI did not start');

    const device = () => ts.adminClient.get<DeviceDetail>(`/api/v1/devices/${d.id}`).then((r) => r.body);
    const events = () => ts.adminClient.get<{ items: DeviceEvent[] }>(`/api/v1/devices/${d.id}/events?limit=100`).then((r) => r.body.items);
    await waitFor(async () => (await device()).status === 'online', { timeoutMs: 30_000, what: `device online; CLI output: ${output}` });
    expect((await device()).enrolled).toBe(true);

    const firstAgent = supervisedAgentPid(supervisorPid);
    if (firstAgent === undefined) throw new Error('no supervised agent process');
    process.kill(firstAgent, 'SIGKILL');
    const restarted = await waitFor(async () => (await events()).find((e) => e.type === 'agent.restarted'), { timeoutMs: 30_000, what: 'an agent.restarted event' });
    expect(restarted.message).toMatch(/Agent restarted/);
    const secondAgent = supervisedAgentPid(supervisorPid);
    expect(secondAgent).toBeDefined();
    expect(secondAgent).not.toBe(firstAgent);
    expect((await device()).status).toBe('online');
    // the restarted agent used its stored credentials: the spent code was not tried again
    expect((await events()).filter((e) => e.type === 'agent.enrolled')).toHaveLength(1);

    await expect(stopChild(cli, 'SIGTERM')).resolves.toBe(0);
    expect(isAlive(secondAgent ?? -1)).toBe(false);
    const after = await device();
    expect(after.status).toBe('offline');
    expect((await events()).some((e) => e.type === 'status.offline' && /signed off \(shutdown\)/.test(e.message))).toBe(true);
  });
});
