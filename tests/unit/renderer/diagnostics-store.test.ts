import { describe, expect, it } from 'vitest';
import type { OutputLine } from '#contract/api/sessions';
import type { IpcCallName, IpcInput, IpcOutput, TetherBridge } from '#contract/ipc';
import { OUTPUT_LINES_KEPT, appendOutput, heldThrough, leavesGap } from '../../../src/renderer/stores/command-output.ts';
import { createDiagnosticsStore } from '../../../src/renderer/stores/diagnostics-store.ts';

const line = (seq: number): OutputLine => ({ seq, at: '2025-01-01T10:00:00.000Z', text: `line ${seq}` });
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i));
const seqs = (output: { lines: readonly OutputLine[] } | undefined) => output?.lines.map((l) => l.seq);

describe('command output', () => {
  it('appends lines in order and keeps the latest progress', () => {
    const first = appendOutput(undefined, lines(1, 3), { percent: 10, message: 'Power' });
    const next = appendOutput(first, lines(4, 5));
    expect(seqs(next)).toEqual([1, 2, 3, 4, 5]);
    expect(next.lastSeq).toBe(5);
    expect(next.progress).toEqual({ percent: 10, message: 'Power' });
  });

  it('merges overlapping and out-of-order lines by seq, without duplicates', () => {
    const live = appendOutput(undefined, lines(4, 6));
    const caughtUp = appendOutput(live, lines(1, 5));
    expect(seqs(caughtUp)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('keeps only the newest lines beyond the limit', () => {
    const output = appendOutput(undefined, lines(1, OUTPUT_LINES_KEPT + 10));
    expect(output.lines).toHaveLength(OUTPUT_LINES_KEPT);
    expect(output.lines[0]!.seq).toBe(11);
    expect(heldThrough(output)).toBe(OUTPUT_LINES_KEPT + 10);
  });

  it('sees a gap when live lines skip some, and where the held lines stop being whole', () => {
    const held = appendOutput(undefined, lines(1, 3));
    expect(leavesGap(held, lines(4, 5))).toBe(false);
    expect(leavesGap(held, lines(7, 8))).toBe(true);
    expect(leavesGap(undefined, lines(3, 4))).toBe(true);
    expect(heldThrough(appendOutput(held, lines(7, 8)))).toBe(3);
  });
});

/** A bridge whose commands.output serves `stored` (1000 a page, like the server). */
function outputBridge(stored: OutputLine[]) {
  const asked: number[] = [];
  const bridge: TetherBridge = {
    invoke<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>> {
      if (name === 'diagnostics.list') return Promise.resolve({ items: [] } as IpcOutput<K>);
      if (name !== 'commands.output') return Promise.reject(new Error(`unexpected call ${name}`));
      const after = (input as { after: number }).after;
      asked.push(after);
      const page = stored.filter((l) => l.seq > after).slice(0, 1000);
      return Promise.resolve({ commandId: 'c1', lines: page, lastSeq: page.at(-1)?.seq ?? after } as IpcOutput<K>);
    },
    on: () => () => undefined,
  };
  return { bridge, asked };
}

describe('diagnostics store', () => {
  it('streams lines and progress of the open device from command.progress events', async () => {
    const { bridge } = outputBridge([]);
    const store = createDiagnosticsStore(bridge);
    await store.getState().open('d1');
    store.getState().receive({ type: 'command.progress', deviceId: 'd1', commandId: 'c1', progress: { percent: 40 }, lines: lines(1, 2) });
    store.getState().receive({ type: 'command.progress', deviceId: 'd2', commandId: 'c9', progress: { percent: 40 }, lines: lines(1, 2) });
    expect(seqs(store.getState().outputs.c1)).toEqual([1, 2]);
    expect(store.getState().outputs.c1?.progress).toEqual({ percent: 40 });
    expect(store.getState().outputs.c9).toBeUndefined();
  });

  it('fetches the lines missed before a gap, page by page', async () => {
    const { bridge, asked } = outputBridge(lines(1, 2500));
    const store = createDiagnosticsStore(bridge);
    await store.getState().open('d1');
    store.getState().receive({ type: 'command.progress', deviceId: 'd1', commandId: 'c1', progress: null, lines: [line(2501)] });
    await store.getState().catchUp('c1');
    expect(asked).toEqual([0, 1000, 2000, 2501]);
    expect(store.getState().outputs.c1?.lines).toHaveLength(2501);
    expect(heldThrough(store.getState().outputs.c1)).toBe(2501);
  });

  it('catches up a run opened later, once even when asked twice at the same time', async () => {
    const { bridge, asked } = outputBridge(lines(1, 5));
    const store = createDiagnosticsStore(bridge);
    await store.getState().open('d1');
    await Promise.all([store.getState().catchUp('c1'), store.getState().catchUp('c1')]);
    expect(asked).toEqual([0, 5]);
    expect(seqs(store.getState().outputs.c1)).toEqual([1, 2, 3, 4, 5]);
  });
});
