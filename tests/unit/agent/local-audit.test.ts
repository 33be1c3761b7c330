import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalAuditFile, verifyLocalAudit, type LocalAuditEntry } from '../../../agent-sim/agent/local-audit.ts';
import { GENESIS_HASH } from '#node-lib/hash-chain';

let dir: string;
let file: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tether-unit-'));
  file = path.join(dir, 'audit.jsonl');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeEntries(count: number): LocalAuditEntry[] {
  const audit = new LocalAuditFile(file);
  const entries = Array.from({ length: count }, (_, i) => audit.append(`action.${i + 1}`, 'ok', { n: i + 1, note: 'x' }));
  audit.close();
  return entries;
}

const readLines = () => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
const writeLines = (lines: readonly string[]) => fs.writeFileSync(file, `${lines.join('\n')}\n`);

describe('LocalAuditFile', () => {
  it('writes one JSON line per entry, chained from genesis, and the file verifies', () => {
    const entries = writeEntries(5);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[0]?.prev).toBe(GENESIS_HASH);
    for (let i = 1; i < entries.length; i += 1) expect(entries[i]?.prev).toBe(entries[i - 1]?.hash);

    const lines = readLines();
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[2] ?? '')).toEqual(entries[2]);
    expect(verifyLocalAudit(file)).toEqual({ ok: true, checked: 5 });
  });

  it('verifies a file that does not exist yet as an empty chain', () => {
    expect(verifyLocalAudit(path.join(dir, 'none.jsonl'))).toEqual({ ok: true, checked: 0 });
  });

  it('continues the chain after reopening the file: seq and previous hash carry on', () => {
    const first = writeEntries(3);
    const reopened = new LocalAuditFile(file);
    const next = reopened.append('after.restart', 'denied', { why: 'test' });
    reopened.close();
    expect(next.seq).toBe(4);
    expect(next.prev).toBe(first[2]?.hash);
    expect(verifyLocalAudit(file)).toEqual({ ok: true, checked: 4 });
  });

  it('continues the chain after reopening a file whose last line is longer than one read chunk', () => {
    const audit = new LocalAuditFile(file);
    audit.append('small', 'ok');
    const big = audit.append('big', 'ok', { blob: 'y'.repeat(20_000) });
    audit.close();
    const reopened = new LocalAuditFile(file);
    const next = reopened.append('after', 'ok');
    reopened.close();
    expect(next.seq).toBe(3);
    expect(next.prev).toBe(big.hash);
    expect(verifyLocalAudit(file)).toEqual({ ok: true, checked: 3 });
  });

  it('opens a file whose last line was torn by a crash and continues from the last complete entry', () => {
    const entries = writeEntries(3);
    fs.appendFileSync(file, '{"seq":4,"at":"2024-01-01T00:00:00.000Z","act');
    // Found failing: the constructor JSON.parses the torn last line and throws a SyntaxError,
    // so an agent that crashed mid-append cannot start again.
    const reopened = new LocalAuditFile(file);
    const next = reopened.append('after.crash', 'ok');
    reopened.close();
    expect(next.seq).toBe(4);
    expect(next.prev).toBe(entries[2]?.hash);
  });

  it('detects an edited line at that entry', () => {
    writeEntries(5);
    const lines = readLines();
    const entry = JSON.parse(lines[2] ?? '') as LocalAuditEntry;
    lines[2] = JSON.stringify({ ...entry, outcome: 'failed' });
    writeLines(lines);
    const result = verifyLocalAudit(file);
    expect(result.ok).toBe(false);
    expect(result.firstBadSeq).toBe(3);
    expect(result.checked).toBe(2);
  });

  it('detects a deleted middle line at the missing entry', () => {
    writeEntries(5);
    const lines = readLines();
    lines.splice(3, 1); // removes seq 4
    writeLines(lines);
    const result = verifyLocalAudit(file);
    expect(result.ok).toBe(false);
    expect(result.firstBadSeq).toBe(4);
    expect(result.checked).toBe(3);
  });

  it('detects a line that is no longer valid JSON at that entry', () => {
    writeEntries(5);
    const lines = readLines();
    lines[1] = (lines[1] ?? '').slice(0, 30);
    writeLines(lines);
    const result = verifyLocalAudit(file);
    expect(result.ok).toBe(false);
    expect(result.firstBadSeq).toBe(2);
    expect(result.checked).toBe(1);
  });

  it('creates the file readable and writable by its owner only (0600)', () => {
    writeEntries(1);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});
