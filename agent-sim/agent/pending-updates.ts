import { OUTPUT_LIMITS, type CommandUpdate } from '#contract/protocol/poll';

interface Pending {
  /** The newest state, without output. */
  update: CommandUpdate;
  /** Output lines not yet sent, oldest first. */
  output: string[];
  dropped: number;
}

const TERMINAL = new Set<CommandUpdate['state']>(['succeeded', 'failed', 'canceled', 'expired']);

/**
 * Command updates waiting to go up, one entry per command: a newer state replaces an
 * older one, but output lines are never lost that way — they accumulate, go up at most
 * OUTPUT_LIMITS.linesPerUpdate per update, and a final state leaves only with (or after)
 * the last of its command's lines. While the server is unreachable at most `outputLimit`
 * lines per command are kept; older ones give way to a line saying how many were dropped.
 */
export class PendingCommandUpdates {
  private readonly entries = new Map<string, Pending>();

  constructor(private readonly outputLimit = 10_000) {}

  get size(): number {
    return this.entries.size;
  }

  put(update: CommandUpdate): void {
    const { output = [], ...state } = update;
    const existing = this.entries.get(update.id);
    if (!existing) {
      this.entries.set(update.id, this.bounded({ update: state, output: [...output], dropped: 0 }));
      return;
    }
    // a late `running` (a re-report) never hides a final state already waiting
    const keepFinal = TERMINAL.has(existing.update.state) && !TERMINAL.has(state.state);
    const progress = state.progress ?? existing.update.progress;
    existing.update = { ...(keepFinal ? existing.update : state), ...(progress ? { progress } : {}) };
    existing.output.push(...output);
    this.bounded(existing);
  }

  /** Up to `limit` updates for the next request; what is left (more output, a final state) stays. */
  take(limit: number): CommandUpdate[] {
    const taken: CommandUpdate[] = [];
    for (const [id, entry] of this.entries) {
      if (taken.length >= limit) break;
      if (entry.dropped) {
        entry.output.unshift(`[… ${entry.dropped} earlier output lines dropped while the server was unreachable]`);
        entry.dropped = 0;
      }
      const output = entry.output.splice(0, OUTPUT_LIMITS.linesPerUpdate);
      const withOutput = output.length ? { output } : {};
      if (entry.output.length) {
        const { progress } = entry.update;
        taken.push({ id, state: 'running', at: entry.update.at, ...(progress ? { progress } : {}), ...withOutput });
      } else {
        taken.push({ ...entry.update, ...withOutput });
        this.entries.delete(id);
      }
    }
    return taken;
  }

  /** Puts back updates a request failed to deliver: their lines before newer ones, the newer state kept. */
  restore(updates: readonly CommandUpdate[]): void {
    for (const update of updates) {
      const { output = [], ...state } = update;
      const existing = this.entries.get(update.id);
      if (!existing) {
        this.entries.set(update.id, this.bounded({ update: state, output: [...output], dropped: 0 }));
        continue;
      }
      existing.output.unshift(...output);
      if (!existing.update.progress && state.progress) existing.update = { ...existing.update, progress: state.progress };
      this.bounded(existing);
    }
  }

  private bounded(entry: Pending): Pending {
    const excess = entry.output.length - this.outputLimit;
    if (excess > 0) {
      entry.output.splice(0, excess);
      entry.dropped += excess;
    }
    return entry;
  }
}
