import type { OutputLine } from '#contract/api/sessions';
import type { CommandProgress } from '#contract/protocol/poll';

/** What a running (or finished) diagnostic has printed, and how far along it said it was. */
export interface CommandOutput {
  /** In `seq` order, without duplicates, at most OUTPUT_LINES_KEPT (the newest). */
  lines: readonly OutputLine[];
  /** The highest `seq` held; 0 before any line. */
  lastSeq: number;
  progress: CommandProgress | null;
}

/** How many output lines one command keeps in memory (the server keeps a bounded log too). */
export const OUTPUT_LINES_KEPT = 5000;

export const NO_OUTPUT: CommandOutput = { lines: [], lastSeq: 0, progress: null };

/**
 * The output with new lines merged in: live events and `commands.output` answers overlap
 * and can arrive in any order, so lines are keyed by `seq`. Progress replaces the shown
 * one only when given.
 */
export function appendOutput(output: CommandOutput | undefined, lines: readonly OutputLine[], progress: CommandProgress | null = null): CommandOutput {
  const current = output ?? NO_OUTPUT;
  const nextProgress = progress ?? current.progress;
  if (lines.length === 0) return nextProgress === current.progress && output ? output : { ...current, progress: nextProgress };
  let merged: OutputLine[];
  if (lines.every((l, i) => l.seq > current.lastSeq && (i === 0 || l.seq > lines[i - 1]!.seq))) {
    merged = [...current.lines, ...lines];
  } else {
    const bySeq = new Map(current.lines.map((l) => [l.seq, l]));
    for (const line of lines) bySeq.set(line.seq, line);
    merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  }
  if (merged.length > OUTPUT_LINES_KEPT) merged = merged.slice(-OUTPUT_LINES_KEPT);
  return { lines: merged, lastSeq: Math.max(current.lastSeq, merged.at(-1)!.seq), progress: nextProgress };
}

/** Whether live lines skip some after what is held (missed while away): then fetch the rest. */
export function leavesGap(output: CommandOutput | undefined, lines: readonly OutputLine[]): boolean {
  const first = lines[0];
  return first !== undefined && first.seq > (output?.lastSeq ?? 0) + 1;
}

/**
 * The `seq` up to which the lines held have no holes: where fetching the rest starts. (When
 * the oldest lines were dropped to stay within OUTPUT_LINES_KEPT, the start is not a hole.)
 */
export function heldThrough(output: CommandOutput | undefined): number {
  if (!output) return 0;
  const trimmed = output.lines.length >= OUTPUT_LINES_KEPT;
  let seq = 0;
  for (const line of output.lines) {
    if (line.seq > seq + 1 && !(seq === 0 && trimmed)) break;
    seq = line.seq;
  }
  return seq;
}
