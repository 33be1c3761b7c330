import { OUTPUT_LIMITS, type CommandProgress } from '#contract/protocol/poll';

/** What one `running` update adds: the latest progress and the lines written since the last one. */
export interface OutputChunk {
  progress?: CommandProgress;
  output?: string[];
}

/** Fits a line into the protocol's line length. */
export function clipLine(line: string): string {
  return line.length > OUTPUT_LIMITS.lineLength ? `${line.slice(0, OUTPUT_LIMITS.lineLength - 1)}…` : line;
}

/**
 * Progress and output of one running command, coalesced: at most one chunk per
 * `intervalMs` (the first goes out at once), each within OUTPUT_LIMITS. A handler that
 * writes faster than that is buffered up to `bufferLimit` lines; lines beyond are counted
 * and replaced by one line saying how many were dropped.
 */
export class CommandOutputStream {
  private lines: string[] = [];
  private latest: CommandProgress | undefined;
  private progressChanged = false;
  private dropped = 0;
  private lastSentAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly send: (chunk: OutputChunk) => void,
    private readonly intervalMs = 200,
    private readonly bufferLimit = 5000,
  ) {}

  progress(percent: number, message?: string): void {
    if (this.closed || !Number.isFinite(percent)) return;
    const clamped = Math.round(Math.min(100, Math.max(0, percent)) * 10) / 10;
    this.latest = { percent: clamped, ...(message ? { message: message.slice(0, 256) } : {}) };
    this.progressChanged = true;
    this.schedule();
  }

  log(text: string): void {
    if (this.closed) return;
    for (const line of String(text).split(/\r?\n/)) {
      if (this.lines.length >= this.bufferLimit) {
        this.dropped += 1;
        continue;
      }
      this.noteDropped();
      this.lines.push(clipLine(line));
    }
    this.schedule();
  }

  /** Sends everything still buffered (before the command's final state); accepts nothing after. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.noteDropped();
    while (this.lines.length || this.progressChanged) this.sendChunk();
  }

  private noteDropped(): void {
    if (!this.dropped) return;
    this.lines.push(`[… ${this.dropped} output lines dropped: written faster than they could be sent]`);
    this.dropped = 0;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const delay = Math.max(0, this.lastSentAt + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sendChunk();
      if (this.lines.length || this.dropped) this.schedule();
    }, delay);
  }

  private sendChunk(): void {
    const output = this.lines.splice(0, OUTPUT_LIMITS.linesPerUpdate);
    const chunk: OutputChunk = {
      ...(this.progressChanged && this.latest ? { progress: this.latest } : {}),
      ...(output.length ? { output } : {}),
    };
    this.progressChanged = false;
    this.lastSentAt = Date.now();
    if (chunk.output || chunk.progress) this.send(chunk);
  }
}
