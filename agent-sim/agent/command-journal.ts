import { closeSync, fdatasyncSync, openSync, readFileSync, existsSync, writeSync } from 'node:fs';
import { trimTornLastLine, writeFileAtomic } from '#node-lib/files';
import type { CommandUpdate } from '#contract/protocol/poll';

type Outcome = Pick<CommandUpdate, 'state' | 'result' | 'error'>;

interface JournalRecord {
  id: string;
  /** `accepted` before a handler runs; the final state after. */
  state: 'accepted' | CommandUpdate['state'];
  at: number;
  result?: unknown;
  error?: CommandUpdate['error'];
}

/**
 * The agent's durable memory of command ids: an id is recorded (and flushed) before its
 * handler runs, so a command delivered twice — or again after a crash — never runs twice.
 * One that was running when the agent died is reported failed (INTERRUPTED), not re-run.
 */
export class CommandJournal {
  private readonly records = new Map<string, JournalRecord>();
  private fd: number;
  private closed = false;
  private lines = 0;

  constructor(
    private readonly path: string,
    private readonly keep = 2000,
  ) {
    // a torn last line (crash mid-write) named a command not yet accepted: drop it
    trimTornLastLine(path);
    if (existsSync(path)) {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          const record = JSON.parse(line) as JournalRecord;
          this.records.set(record.id, record);
          this.lines += 1;
        } catch {
          // unreadable line: skip it rather than refuse to start
        }
      }
    }
    this.fd = openSync(path, 'a', 0o600);
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  get(id: string): JournalRecord | undefined {
    return this.records.get(id);
  }

  /** Records that the command is about to run. False if this id was seen before. */
  accept(id: string): boolean {
    if (this.records.has(id)) return false;
    this.write({ id, state: 'accepted', at: Date.now() });
    return true;
  }

  finish(id: string, outcome: Outcome): void {
    this.write({ id, at: Date.now(), state: outcome.state, ...(outcome.result !== undefined ? { result: outcome.result } : {}), ...(outcome.error ? { error: outcome.error } : {}) });
  }

  /** Commands accepted by an earlier run of the agent that never finished. */
  interrupted(): string[] {
    return [...this.records.values()].filter((r) => r.state === 'accepted').map((r) => r.id);
  }

  /** Ids that ended since `since` (epoch ms), for re-reporting after a restart. */
  finishedSince(since: number): string[] {
    return [...this.records.values()].filter((r) => r.state !== 'accepted' && r.at >= since).map((r) => r.id);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  private write(record: JournalRecord): void {
    this.records.set(record.id, record);
    // the agent is going down: the command stays "accepted" on disk and is reported
    // interrupted at the next start (and the closed descriptor's number may be another file's now)
    if (this.closed) return;
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    fdatasyncSync(this.fd);
    this.lines += 1;
    if (this.lines > this.keep * 4) this.compact();
  }

  /** Rewrites the journal with the newest `keep` ids (older ones can no longer be redelivered). */
  private compact(): void {
    const newest = [...this.records.values()].sort((a, b) => a.at - b.at).slice(-this.keep);
    this.records.clear();
    for (const r of newest) this.records.set(r.id, r);
    closeSync(this.fd);
    writeFileAtomic(this.path, newest.map((r) => JSON.stringify(r)).join('\n') + '\n', 0o600);
    this.fd = openSync(this.path, 'a', 0o600);
    this.lines = newest.length;
  }
}
