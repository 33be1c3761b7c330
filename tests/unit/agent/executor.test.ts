import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommandExecutor, type CommandHandler } from '../../../agent-sim/agent/executor.ts';
import { CommandJournal } from '../../../agent-sim/agent/command-journal.ts';
import { LocalAuditFile, verifyLocalAudit, type LocalAuditEntry } from '../../../agent-sim/agent/local-audit.ts';
import { TetherError } from '#contract/errors';
import type { CommandDelivery, CommandUpdate } from '#contract/protocol/poll';
import { waitFor } from '../../helpers/wait.ts';

interface Agent {
  executor: CommandExecutor;
  journal: CommandJournal;
  audit: LocalAuditFile;
  updates: { update: CommandUpdate; urgent: boolean }[];
  close: () => void;
}

let dir: string;
const open: Agent[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-unit-'));
});
afterEach(() => {
  for (const agent of open.splice(0)) agent.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** An executor over a real journal and audit file in the test directory (reopened if they exist). */
function startAgent(): Agent {
  const journal = new CommandJournal(path.join(dir, 'commands.jsonl'));
  const audit = new LocalAuditFile(path.join(dir, 'audit.jsonl'));
  const updates: Agent['updates'] = [];
  const executor = new CommandExecutor(journal, audit, (update, urgent) => updates.push({ update, urgent }));
  let closed = false;
  const agent: Agent = {
    executor,
    journal,
    audit,
    updates,
    close: () => {
      if (closed) return;
      closed = true;
      journal.close();
      audit.close();
    },
  };
  open.push(agent);
  return agent;
}

/** A ping handler that counts its runs. */
function countingPing(): { handler: CommandHandler; calls: Record<string, unknown>[] } {
  const calls: Record<string, unknown>[] = [];
  return {
    calls,
    handler: (params) => {
      calls.push(params);
      return Promise.resolve({ echo: params.echo, agentTime: 1 });
    },
  };
}

/** A handler that runs until its signal aborts, then rejects as real work would. */
const waitForAbort: CommandHandler = (_params, { signal }) =>
  new Promise((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });

const delivery = (id: string, overrides: Partial<CommandDelivery> = {}): CommandDelivery => ({
  id,
  name: 'ping',
  params: {},
  ttlMs: 10_000,
  attempt: 1,
  ...overrides,
});

const statesOf = (agent: Agent, id: string) => agent.updates.filter((u) => u.update.id === id).map((u) => u.update.state);
const lastUpdate = (agent: Agent, id: string) => agent.updates.filter((u) => u.update.id === id).at(-1)?.update;
const auditEntries = (): LocalAuditEntry[] =>
  fs
    .readFileSync(path.join(dir, 'audit.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LocalAuditEntry);
const finished = (agent: Agent, id: string) => () => (statesOf(agent, id).some((s) => s !== 'running') ? true : undefined);

describe('CommandExecutor', () => {
  it('runs a delivered ping once and reports running, then succeeded with its result', async () => {
    const agent = startAgent();
    const ping = countingPing();
    agent.executor.register('ping', ping.handler);

    agent.executor.accept([delivery('cmd-1', { params: { echo: 'hello' } })]);
    expect(statesOf(agent, 'cmd-1')).toEqual(['running']);
    expect(agent.executor.activeCount).toBe(1);

    await waitFor(finished(agent, 'cmd-1'), { timeoutMs: 2000 });
    expect(statesOf(agent, 'cmd-1')).toEqual(['running', 'succeeded']);
    expect(lastUpdate(agent, 'cmd-1')?.result).toEqual({ echo: 'hello', agentTime: 1 });
    expect(agent.updates.at(-1)?.urgent).toBe(true);
    expect(ping.calls).toEqual([{ echo: 'hello' }]);
    await waitFor(() => agent.executor.activeCount === 0, { timeoutMs: 2000 });
    expect(auditEntries().map((e) => e.action)).toEqual(['command.start', 'command.end']);
    expect(verifyLocalAudit(path.join(dir, 'audit.jsonl')).ok).toBe(true);
  });

  it('does not run a command delivered again, and reports its final state again', async () => {
    const agent = startAgent();
    const ping = countingPing();
    agent.executor.register('ping', ping.handler);
    agent.executor.accept([delivery('cmd-1', { params: { echo: 'once' } })]);
    await waitFor(finished(agent, 'cmd-1'), { timeoutMs: 2000 });

    agent.executor.accept([delivery('cmd-1', { params: { echo: 'once' }, attempt: 2 })]);
    expect(ping.calls).toHaveLength(1);
    expect(statesOf(agent, 'cmd-1')).toEqual(['running', 'succeeded', 'succeeded']);
    expect(lastUpdate(agent, 'cmd-1')?.result).toEqual({ echo: 'once', agentTime: 1 });
    expect(auditEntries().map((e) => e.action)).toContain('command.duplicate-ignored');
  });

  it('does not run a command delivered again after the agent restarts', async () => {
    const first = startAgent();
    const ping = countingPing();
    first.executor.register('ping', ping.handler);
    first.executor.accept([delivery('cmd-1')]);
    await waitFor(finished(first, 'cmd-1'), { timeoutMs: 2000 });
    first.close();

    const second = startAgent();
    second.executor.register('ping', ping.handler);
    second.executor.accept([delivery('cmd-1', { attempt: 2 })]);
    expect(ping.calls).toHaveLength(1);
    expect(statesOf(second, 'cmd-1')).toEqual(['succeeded']);
  });

  it('refuses invalid parameters as VALIDATION_FAILED without calling the handler, and audits the refusal', () => {
    const agent = startAgent();
    const ping = countingPing();
    agent.executor.register('ping', ping.handler);

    agent.executor.accept([delivery('cmd-bad', { params: { echo: 42, unexpected: true } })]);
    expect(ping.calls).toHaveLength(0);
    expect(statesOf(agent, 'cmd-bad')).toEqual(['failed']);
    expect(lastUpdate(agent, 'cmd-bad')?.error?.code).toBe('VALIDATION_FAILED');
    const refused = auditEntries().find((e) => e.action === 'command.refused');
    expect(refused).toMatchObject({ outcome: 'denied', detail: { commandId: 'cmd-bad', name: 'ping' } });

    agent.executor.accept([delivery('cmd-bad', { params: {} })]);
    expect(ping.calls).toHaveLength(0);
  });

  it('refuses a command with no registered handler as UNKNOWN_COMMAND', () => {
    const agent = startAgent();
    agent.executor.accept([delivery('cmd-status', { name: 'read-status' })]);
    expect(statesOf(agent, 'cmd-status')).toEqual(['failed']);
    expect(lastUpdate(agent, 'cmd-status')?.error?.code).toBe('UNKNOWN_COMMAND');
  });

  it('reports a command that arrives with no time left as expired, without running it', () => {
    const agent = startAgent();
    const ping = countingPing();
    agent.executor.register('ping', ping.handler);
    agent.executor.accept([delivery('cmd-late', { ttlMs: 0 })]);
    expect(ping.calls).toHaveLength(0);
    expect(statesOf(agent, 'cmd-late')).toEqual(['expired']);
    expect(lastUpdate(agent, 'cmd-late')?.error?.code).toBe('COMMAND_EXPIRED');
  });

  it('aborts a running command that runs past its time limit and reports it expired', async () => {
    const agent = startAgent();
    agent.executor.register('ping', waitForAbort);
    agent.executor.accept([delivery('cmd-slow', { ttlMs: 30 })]);
    await waitFor(finished(agent, 'cmd-slow'), { timeoutMs: 2000 });
    expect(statesOf(agent, 'cmd-slow')).toEqual(['running', 'expired']);
    expect(lastUpdate(agent, 'cmd-slow')?.error?.code).toBe('COMMAND_EXPIRED');
  });

  it('cancels a running command by aborting its handler and reports it canceled', async () => {
    const agent = startAgent();
    let sawAbort = false;
    agent.executor.register('ping', async (params, context) => {
      context.signal.addEventListener('abort', () => {
        sawAbort = true;
      });
      return waitForAbort(params, context);
    });
    agent.executor.accept([delivery('cmd-long')]);
    expect(statesOf(agent, 'cmd-long')).toEqual(['running']);

    agent.executor.cancel(['cmd-long']);
    await waitFor(finished(agent, 'cmd-long'), { timeoutMs: 2000 });
    expect(sawAbort).toBe(true);
    expect(statesOf(agent, 'cmd-long')).toEqual(['running', 'canceled']);
    await waitFor(() => agent.executor.activeCount === 0, { timeoutMs: 2000 });
  });

  it('records a cancel for a command never seen, so a later delivery of it never runs', () => {
    const agent = startAgent();
    const ping = countingPing();
    agent.executor.register('ping', ping.handler);

    agent.executor.cancel(['cmd-ahead']);
    expect(statesOf(agent, 'cmd-ahead')).toEqual(['canceled']);

    agent.executor.accept([delivery('cmd-ahead')]);
    expect(ping.calls).toHaveLength(0);
    expect(statesOf(agent, 'cmd-ahead')).toEqual(['canceled', 'canceled']);
    agent.close();

    const restarted = startAgent();
    restarted.executor.register('ping', ping.handler);
    restarted.executor.accept([delivery('cmd-ahead', { attempt: 3 })]);
    expect(ping.calls).toHaveLength(0);
    expect(statesOf(restarted, 'cmd-ahead')).toEqual(['canceled']);
  });

  it('reports a command left running by an earlier run as failed COMMAND_INTERRUPTED, without running it', () => {
    const first = startAgent();
    first.executor.register('ping', () => new Promise<never>(() => undefined));
    first.executor.accept([delivery('cmd-crashed', { ttlMs: 20 })]);
    expect(statesOf(first, 'cmd-crashed')).toEqual(['running']);
    // the process dies: files are closed without the command finishing
    first.journal.close();
    first.audit.close();
    open.splice(open.indexOf(first), 1);

    const second = startAgent();
    const ping = countingPing();
    second.executor.register('ping', ping.handler);
    second.executor.recoverInterrupted();
    expect(statesOf(second, 'cmd-crashed')).toEqual(['failed']);
    expect(lastUpdate(second, 'cmd-crashed')?.error?.code).toBe('COMMAND_INTERRUPTED');

    second.executor.accept([delivery('cmd-crashed', { attempt: 2 })]);
    expect(ping.calls).toHaveLength(0);
    expect(statesOf(second, 'cmd-crashed')).toEqual(['failed', 'failed']);

    second.executor.recoverInterrupted();
    expect(statesOf(second, 'cmd-crashed')).toEqual(['failed', 'failed']);
  });

  it('reports the code of a TetherError thrown by a handler', async () => {
    const agent = startAgent();
    agent.executor.register('read-data-items', () => Promise.reject(new TetherError('FORBIDDEN', 'not on this device')));
    agent.executor.accept([delivery('cmd-denied', { name: 'read-data-items', params: { keys: [] } })]);
    await waitFor(finished(agent, 'cmd-denied'), { timeoutMs: 2000 });
    expect(statesOf(agent, 'cmd-denied')).toEqual(['running', 'failed']);
    expect(lastUpdate(agent, 'cmd-denied')?.error).toEqual({ code: 'FORBIDDEN', message: 'not on this device' });
  });

  it('reports a plain error thrown by a handler as COMMAND_FAILED with its message', async () => {
    const agent = startAgent();
    agent.executor.register('read-status', () => Promise.reject(new Error('sensor bus down')));
    agent.executor.accept([delivery('cmd-broken', { name: 'read-status' })]);
    await waitFor(finished(agent, 'cmd-broken'), { timeoutMs: 2000 });
    expect(lastUpdate(agent, 'cmd-broken')?.error).toEqual({ code: 'COMMAND_FAILED', message: 'sensor bus down' });
  });
});
