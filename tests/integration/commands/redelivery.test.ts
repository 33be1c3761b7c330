import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyLocalAudit, type LocalAuditEntry } from '../../../agent-sim/agent/local-audit.ts';
import type { CommandView } from '#contract/api/commands';
import type { DeviceDetail } from '#contract/api/fleet';
import { type SeededDevice, seedCustomer } from '../../helpers/admin.ts';
import { spawnTs, stopChild } from '../../helpers/processes.ts';
import { type TestServer, startTestServer, tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

/**
 * The agent runs as its own process here (as on a device) so that it can be frozen and
 * killed at exact points of the command's life.
 */
describe('commands survive an agent killed mid-command', () => {
  let ts: TestServer;
  let device: SeededDevice;
  let agentDir: string;
  let agent: ChildProcess | undefined;
  let frozen: ChildProcess | undefined;

  const startAgent = (enroll: boolean) => {
    const args = ['--no-supervisor', '--server', ts.url, '--ca', ts.server.ctx.pki.caCertPath, '--data-dir', agentDir, '--poll-backoff-max-ms', '300'];
    if (enroll) args.push('--enroll', device.enrollmentCode, '--model', device.modelId, '--serial', device.serial);
    agent = spawnTs('agent-sim/sim-agent.ts', args, { env: { TETHER_LOG_LEVEL: 'warn' } });
    return agent;
  };
  const deviceDetail = async () => (await ts.adminClient.get<DeviceDetail>(`/api/v1/devices/${device.id}`)).body;
  const command = async (id: string) => (await ts.adminClient.get<CommandView>(`/api/v1/commands/${id}`)).body;
  const auditEntries = (): LocalAuditEntry[] =>
    readFileSync(join(agentDir, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as LocalAuditEntry);
  const starts = (commandId: string) => auditEntries().filter((e) => e.action === 'command.start' && e.detail.commandId === commandId);

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: 30_000 });
    device = (await seedCustomer(ts, 'Redelivery Hospital', [{ serial: 'SFX-RD00001', modelId: 'stellant-flex' }])).devices[0]!;
    agentDir = tempDir('tether-agent-');
    startAgent(true);
    await waitFor(async () => (await deviceDetail()).status === 'online', { timeoutMs: 30_000, what: 'agent online' });
  });

  afterEach(async () => {
    // a test that failed while its agent was frozen must not leave it stopped
    if (frozen && frozen.exitCode === null && frozen.signalCode === null) {
      frozen.kill('SIGKILL');
      await new Promise((resolve) => frozen!.once('exit', resolve));
    }
    frozen = undefined;
    // every test leaves a running agent behind for the next
    if (!agent || agent.exitCode !== null || agent.signalCode !== null) startAgent(false);
  });

  afterAll(async () => {
    if (agent) await stopChild(agent);
    await ts.destroy();
  });

  it('redelivers a command whose delivery the agent never acknowledged, and runs it exactly once', async () => {
    const bootBefore = (await deviceDetail()).agentVersion;
    expect(bootBefore).toBe('1.0.0');
    // Freeze the agent while the server holds its poll: the answer with the command reaches
    // its socket but is never read. (Frozen between two polls, it would never be sent the
    // command at all.)
    await waitFor(() => ts.server.services.polls.holds(device.id), { timeoutMs: 15_000, what: 'the agent to hold a poll' });
    frozen = agent!;
    frozen.kill('SIGSTOP');
    const queued = await ts.adminClient.post<{ id: string }>(`/api/v1/devices/${device.id}/commands`, { name: 'ping', params: { echo: 'once' } });
    await waitFor(async () => (await command(queued.body.id)).state === 'delivered', { what: 'command delivered to the frozen agent' });
    const victim = frozen;
    victim.kill('SIGKILL');
    await new Promise((resolve) => victim.once('exit', resolve));
    expect(starts(queued.body.id)).toHaveLength(0);

    startAgent(false);
    const done = await waitFor(async () => {
      const view = await command(queued.body.id);
      return view.state === 'succeeded' ? view : undefined;
    }, { timeoutMs: 30_000, what: 'redelivered command to succeed' });
    expect(done.attempts).toBe(2);
    const delivered = done.history.filter((h) => h.state === 'delivered');
    expect(delivered).toHaveLength(2);
    expect(delivered[1]?.detail).toMatch(/redelivered/);
    expect(done.result).toMatchObject({ echo: 'once' });
    expect(starts(queued.body.id)).toHaveLength(1);
    expect(verifyLocalAudit(join(agentDir, 'audit.jsonl')).ok).toBe(true);
  });

  it('never re-runs a command that was running when the agent died: it is reported interrupted', async () => {
    const queued = await ts.adminClient.post<{ id: string }>(`/api/v1/devices/${device.id}/commands`, { name: 'ping', params: { delayMs: 60_000 } });
    await waitFor(async () => (await command(queued.body.id)).state === 'running', { timeoutMs: 15_000, what: 'command running' });
    const victim = agent!;
    victim.kill('SIGKILL');
    await new Promise((resolve) => victim.once('exit', resolve));

    startAgent(false);
    const ended = await waitFor(async () => {
      const view = await command(queued.body.id);
      return view.state === 'failed' ? view : undefined;
    }, { timeoutMs: 30_000, what: 'interrupted command reported failed' });
    expect(ended.error?.code).toBe('COMMAND_INTERRUPTED');
    expect(starts(queued.body.id)).toHaveLength(1);
    expect(auditEntries().some((e) => e.action === 'command.end' && e.detail.commandId === queued.body.id && e.outcome === 'failed')).toBe(true);
  });

  it('reports a result finished just before a crash after the restart', async () => {
    // A command finishes; the agent is killed at once, possibly before its report left.
    const queued = await ts.adminClient.post<{ id: string }>(`/api/v1/devices/${device.id}/commands`, { name: 'read-status' });
    await waitFor(() => starts(queued.body.id).length === 1 && auditEntries().some((e) => e.action === 'command.end' && e.detail.commandId === queued.body.id), { what: 'command ran on the agent' });
    const victim = agent!;
    victim.kill('SIGKILL');
    await new Promise((resolve) => victim.once('exit', resolve));
    startAgent(false);
    const view = await waitFor(async () => {
      const v = await command(queued.body.id);
      return v.state === 'succeeded' ? v : undefined;
    }, { timeoutMs: 30_000, what: 'result reported' });
    expect(view.result).toMatchObject({ serial: 'SFX-RD00001' });
    expect(starts(queued.body.id)).toHaveLength(1);
  });
});
