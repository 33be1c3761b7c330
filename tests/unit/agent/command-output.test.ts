import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandJournal } from '../../../agent-sim/agent/command-journal.ts';
import { CommandOutputStream, type OutputChunk } from '../../../agent-sim/agent/command-output.ts';
import { CommandExecutor } from '../../../agent-sim/agent/executor.ts';
import { LocalAuditFile } from '../../../agent-sim/agent/local-audit.ts';
import { PendingCommandUpdates } from '../../../agent-sim/agent/pending-updates.ts';
import { CommandUpdateSchema, OUTPUT_LIMITS, type CommandUpdate } from '#contract/protocol/poll';
import { waitFor } from '../../helpers/wait.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const lines = (n: number, prefix = 'line') => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`);

describe('CommandOutputStream', () => {
  it('coalesces a burst into one chunk, then sends at most one chunk per interval', async () => {
    const chunks: { at: number; chunk: OutputChunk }[] = [];
    const stream = new CommandOutputStream((chunk) => chunks.push({ at: Date.now(), chunk }), 300);
    stream.progress(10, 'Starting');
    for (const line of lines(5)) stream.log(line);
    await waitFor(() => chunks.length === 1, { timeoutMs: 1000 });
    expect(chunks[0]?.chunk).toEqual({ progress: { percent: 10, message: 'Starting' }, output: lines(5) });

    for (let i = 0; i < 5; i += 1) {
      stream.log(`more ${i}`);
      stream.progress(20 + i);
      await sleep(10);
    }
    await waitFor(() => chunks.length === 2, { timeoutMs: 1000 });
    await sleep(350);
    expect(chunks).toHaveLength(2);
    expect(chunks[1]!.at - chunks[0]!.at).toBeGreaterThanOrEqual(295);
    expect(chunks[1]?.chunk).toEqual({ progress: { percent: 24 }, output: ['more 0', 'more 1', 'more 2', 'more 3', 'more 4'] });
    stream.close();
  });

  it('keeps each chunk within the protocol limits and flushes the rest on close', () => {
    const chunks: OutputChunk[] = [];
    const stream = new CommandOutputStream((chunk) => chunks.push(chunk), 10_000);
    stream.log(lines(450).join('\n'));
    stream.log('x'.repeat(5000));
    stream.close();
    stream.log('after close');
    expect(chunks.map((c) => c.output?.length)).toEqual([200, 200, 51]);
    expect(chunks.flatMap((c) => c.output ?? []).slice(0, 450)).toEqual(lines(450));
    const long = chunks.at(-1)?.output?.at(-1) ?? '';
    expect(long).toHaveLength(OUTPUT_LIMITS.lineLength);
    expect(long.endsWith('…')).toBe(true);
  });

  it('says how many lines it dropped when a handler writes faster than they can be sent', () => {
    const chunks: OutputChunk[] = [];
    const stream = new CommandOutputStream((chunk) => chunks.push(chunk), 10_000, 300);
    for (const line of lines(1000)) stream.log(line);
    stream.close();
    const all = chunks.flatMap((c) => c.output ?? []);
    expect(all.slice(0, 300)).toEqual(lines(300));
    expect(all.at(-1)).toBe('[… 700 output lines dropped: written faster than they could be sent]');
  });
});

describe('PendingCommandUpdates', () => {
  const running = (id: string, output?: string[], percent?: number): CommandUpdate => ({
    id,
    state: 'running',
    at: 1,
    ...(output ? { output } : {}),
    ...(percent !== undefined ? { progress: { percent } } : {}),
  });

  it('never loses output when a final state replaces a running update', () => {
    const pending = new PendingCommandUpdates();
    pending.put(running('c1', ['a', 'b'], 50));
    pending.put(running('c1', ['c'], 90));
    pending.put({ id: 'c1', state: 'succeeded', at: 2, result: { ok: true } });
    expect(pending.take(500)).toEqual([{ id: 'c1', state: 'succeeded', at: 2, result: { ok: true }, progress: { percent: 90 }, output: ['a', 'b', 'c'] }]);
    expect(pending.size).toBe(0);
  });

  it('sends a long backlog in updates of at most 200 lines, the final state with the last of them', () => {
    const pending = new PendingCommandUpdates();
    pending.put(running('c1', lines(200)));
    pending.put(running('c1', lines(250, 'more')));
    pending.put({ id: 'c1', state: 'failed', at: 3, error: { code: 'COMMAND_FAILED', message: 'broke' } });
    const batches = [pending.take(500), pending.take(500), pending.take(500), pending.take(500)];
    expect(batches.map((b) => b.map((u) => [u.state, u.output?.length]))).toEqual([[['running', 200]], [['running', 200]], [['failed', 50]], []]);
    for (const update of batches.flat()) expect(CommandUpdateSchema.safeParse(update).success).toBe(true);
    expect(batches.flat().flatMap((u) => u.output ?? [])).toEqual([...lines(200), ...lines(250, 'more')]);
  });

  it('puts back what a failed request carried, in order and before newer lines', () => {
    const pending = new PendingCommandUpdates();
    pending.put(running('c1', ['first']));
    const lost = pending.take(500);
    pending.put(running('c1', ['second']));
    pending.put({ id: 'c1', state: 'succeeded', at: 5, result: 1 });
    pending.restore(lost);
    expect(pending.take(500)).toEqual([{ id: 'c1', state: 'succeeded', at: 5, result: 1, output: ['first', 'second'] }]);
  });

  it('keeps a final state when a late running re-report arrives', () => {
    const pending = new PendingCommandUpdates();
    pending.put({ id: 'c1', state: 'canceled', at: 5 });
    pending.put(running('c1'));
    expect(pending.take(500)).toEqual([{ id: 'c1', state: 'canceled', at: 5 }]);
  });

  it('bounds the lines it keeps for an unreachable server and says how many it dropped', () => {
    const pending = new PendingCommandUpdates(100);
    pending.put(running('c1', lines(150)));
    const [update] = pending.take(500);
    expect(update?.output?.[0]).toBe('[… 50 earlier output lines dropped while the server was unreachable]');
    expect(update?.output?.slice(1)).toEqual(lines(150).slice(50));
  });

  it('takes at most the limit of updates per request', () => {
    const pending = new PendingCommandUpdates();
    for (const id of ['a', 'b', 'c']) pending.put(running(id));
    expect(pending.take(2).map((u) => u.id)).toEqual(['a', 'b']);
    expect(pending.take(2).map((u) => u.id)).toEqual(['c']);
  });
});

describe('CommandExecutor progress and output', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('streams a handler\'s progress and lines as running updates, all before the final state', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-output-'));
    const journal = new CommandJournal(path.join(dir, 'commands.jsonl'));
    const audit = new LocalAuditFile(path.join(dir, 'audit.jsonl'));
    const updates: { update: CommandUpdate; urgent: boolean }[] = [];
    const executor = new CommandExecutor(journal, audit, (update, urgent) => updates.push({ update, urgent }), { outputIntervalMs: 30 });
    executor.register('ping', async (_params, context) => {
      for (let step = 1; step <= 4; step += 1) {
        context.log(`step ${step}`);
        context.progress(step * 25, `step ${step}`);
        await sleep(15);
      }
      for (const line of lines(250)) context.log(line);
      return { agentTime: 1 };
    });

    void executor.accept([{ id: 'cmd-1', name: 'ping', params: {}, ttlMs: 10_000, attempt: 1 }]);
    await waitFor(() => updates.some((u) => u.update.state === 'succeeded'), { timeoutMs: 3000 });
    journal.close();
    audit.close();

    const states = updates.map((u) => u.update.state);
    expect(states[0]).toBe('running');
    expect(states.at(-1)).toBe('succeeded');
    expect(states.slice(0, -1).every((s) => s === 'running')).toBe(true);
    const streamed = updates.filter((u) => u.update.output || u.update.progress);
    expect(streamed.every((u) => u.urgent)).toBe(true);
    expect(streamed.length).toBeLessThanOrEqual(6); // coalesced: not one update per call
    expect(updates.flatMap((u) => u.update.output ?? [])).toEqual(['step 1', 'step 2', 'step 3', 'step 4', ...lines(250)]);
    expect(updates.map((u) => u.update.progress?.percent).filter((p) => p !== undefined).at(-1)).toBe(100);
    for (const { update } of updates) expect(CommandUpdateSchema.safeParse(update).success).toBe(true);
  });
});
