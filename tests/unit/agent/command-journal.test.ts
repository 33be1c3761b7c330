import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CommandJournal } from '../../../agent-sim/agent/command-journal.ts';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-unit-'));
  file = path.join(dir, 'commands.jsonl');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `use` on a journal opened on the test file and closes it afterwards. */
function withJournal<T>(use: (journal: CommandJournal) => T, keep?: number): T {
  const journal = keep === undefined ? new CommandJournal(file) : new CommandJournal(file, keep);
  try {
    return use(journal);
  } finally {
    journal.close();
  }
}

const lineCount = () => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length;

describe('CommandJournal', () => {
  it('accepts an id once and refuses it when seen again', () => {
    withJournal((journal) => {
      expect(journal.accept('cmd-1')).toBe(true);
      expect(journal.accept('cmd-1')).toBe(false);
      journal.finish('cmd-1', { state: 'succeeded', result: { ok: 1 } });
      expect(journal.accept('cmd-1')).toBe(false);
      expect(journal.accept('cmd-2')).toBe(true);
    });
  });

  it('still refuses a seen id after the file is reopened', () => {
    withJournal((journal) => {
      journal.accept('cmd-1');
      journal.accept('cmd-2');
      journal.finish('cmd-2', { state: 'failed', error: { code: 'COMMAND_FAILED', message: 'boom' } });
    });
    withJournal((journal) => {
      expect(journal.accept('cmd-1')).toBe(false);
      expect(journal.accept('cmd-2')).toBe(false);
      expect(journal.accept('cmd-3')).toBe(true);
      expect(journal.get('cmd-2')).toMatchObject({ id: 'cmd-2', state: 'failed', error: { code: 'COMMAND_FAILED', message: 'boom' } });
    });
  });

  it('lists commands accepted but never finished as interrupted after reopening', () => {
    withJournal((journal) => {
      journal.accept('done');
      journal.finish('done', { state: 'succeeded' });
      journal.accept('left-running-1');
      journal.accept('left-running-2');
    });
    withJournal((journal) => {
      expect(journal.interrupted().sort()).toEqual(['left-running-1', 'left-running-2']);
      journal.finish('left-running-1', { state: 'failed', error: { code: 'COMMAND_INTERRUPTED', message: 'restart' } });
      expect(journal.interrupted()).toEqual(['left-running-2']);
    });
  });

  it('lists the commands that finished at or after a time, not unfinished or older ones', async () => {
    withJournal((journal) => {
      journal.accept('old');
      journal.finish('old', { state: 'succeeded' });
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const since = Date.now();
    withJournal((journal) => {
      journal.accept('new-done');
      journal.finish('new-done', { state: 'canceled' });
      journal.accept('new-running');
      expect(journal.finishedSince(since)).toEqual(['new-done']);
      expect(journal.finishedSince(0).sort()).toEqual(['new-done', 'old']);
    });
    withJournal((journal) => expect(journal.finishedSince(since)).toEqual(['new-done']));
  });

  it('tolerates a torn last line and keeps every complete record', () => {
    withJournal((journal) => {
      journal.accept('cmd-1');
      journal.finish('cmd-1', { state: 'succeeded' });
      journal.accept('cmd-2');
    });
    fs.appendFileSync(file, '{"id":"cmd-3","sta');
    withJournal((journal) => {
      expect(journal.accept('cmd-1')).toBe(false);
      expect(journal.accept('cmd-2')).toBe(false);
      expect(journal.interrupted()).toEqual(['cmd-2']);
      expect(journal.has('cmd-3')).toBe(false);
    });
  });

  it('remembers a command accepted after a torn last line across the next restart', () => {
    withJournal((journal) => journal.accept('cmd-1'));
    fs.appendFileSync(file, '{"id":"cmd-torn","sta');
    // restart after the crash: the next command is accepted, then the agent dies while it runs
    withJournal((journal) => expect(journal.accept('cmd-after-crash')).toBe(true));
    // Found failing: the accept record was appended onto the torn line with no newline before
    // it, so the merged line fails to parse here and the id is forgotten: it would run twice.
    withJournal((journal) => {
      expect(journal.interrupted()).toContain('cmd-after-crash');
      expect(journal.accept('cmd-after-crash')).toBe(false);
    });
  });

  it('compacts to the newest `keep` ids once the file grows past four times that, and the file shrinks', () => {
    const keep = 5;
    withJournal((journal) => {
      for (let n = 1; n <= keep * 4; n += 1) journal.accept(`cmd-${n}`);
    }, keep);
    const sizeBefore = fs.statSync(file).size;
    expect(lineCount()).toBe(20);

    withJournal((journal) => {
      expect(journal.accept('cmd-21')).toBe(true);
    }, keep);
    expect(lineCount()).toBe(keep);
    expect(fs.statSync(file).size).toBeLessThan(sizeBefore);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    withJournal((journal) => {
      for (let n = 17; n <= 21; n += 1) expect(journal.has(`cmd-${n}`), `cmd-${n}`).toBe(true);
      for (let n = 1; n <= 16; n += 1) expect(journal.has(`cmd-${n}`), `cmd-${n}`).toBe(false);
      expect(journal.interrupted().sort()).toEqual(['cmd-17', 'cmd-18', 'cmd-19', 'cmd-20', 'cmd-21']);
    }, keep);
  });

  it('keeps writing to the compacted file, so later ids survive a reopen', () => {
    const keep = 3;
    withJournal((journal) => {
      for (let n = 1; n <= 13; n += 1) journal.accept(`cmd-${n}`);
      journal.finish('cmd-13', { state: 'succeeded' });
    }, keep);
    withJournal((journal) => {
      expect(journal.get('cmd-13')?.state).toBe('succeeded');
      expect(journal.accept('cmd-13')).toBe(false);
      expect(journal.has('cmd-1')).toBe(false);
    }, keep);
    expect(lineCount()).toBe(keep + 1);
  });
});
