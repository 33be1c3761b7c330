import { closeSync, fdatasyncSync, fstatSync, openSync, readSync, writeSync, readFileSync, existsSync } from 'node:fs';
import { trimTornLastLine } from '#node-lib/files';
import { ChainVerifier, GENESIS_HASH, chainHash, type ChainVerification } from '#node-lib/hash-chain';

/** One line of the agent's local audit file. */
export interface LocalAuditEntry {
  seq: number;
  at: string;
  action: string;
  outcome: 'ok' | 'denied' | 'failed';
  detail: Record<string, unknown>;
  prev: string;
  hash: string;
}

/**
 * The agent's own audit trail: JSON lines, each chained to the one before by hash, so
 * the customer can read locally what was done on the device and prove nothing was
 * removed or altered. Each entry is flushed to disk before the action proceeds.
 */
export class LocalAuditFile {
  private seq = 0;
  private prev = GENESIS_HASH;
  private readonly fd: number;

  constructor(readonly path: string) {
    // an entry torn by a crash mid-append never completed: drop it and chain on from the last whole one
    trimTornLastLine(path);
    const last = readLastLine(path);
    if (last) {
      const entry = JSON.parse(last) as LocalAuditEntry;
      this.seq = entry.seq;
      this.prev = entry.hash;
    }
    this.fd = openSync(path, 'a', 0o600);
  }

  append(action: string, outcome: LocalAuditEntry['outcome'], detail: Record<string, unknown> = {}): LocalAuditEntry {
    const content = { seq: this.seq + 1, at: new Date().toISOString(), action, outcome, detail };
    const entry: LocalAuditEntry = { ...content, prev: this.prev, hash: chainHash(this.prev, content) };
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    fdatasyncSync(this.fd);
    this.seq = entry.seq;
    this.prev = entry.hash;
    return entry;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Verifies a local audit file from its first line. */
export function verifyLocalAudit(path: string): ChainVerification {
  const verifier = new ChainVerifier();
  if (!existsSync(path)) return verifier.finish();
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  for (const [index, line] of lines.entries()) {
    let entry: LocalAuditEntry;
    try {
      entry = JSON.parse(line) as LocalAuditEntry;
    } catch {
      return { ok: false, checked: index, firstBadSeq: index + 1, reason: `line ${index + 1} is not valid JSON` };
    }
    const { prev, hash, ...content } = entry;
    if (!verifier.add({ seq: entry.seq, prevHash: prev, hash, content })) break;
  }
  return verifier.finish();
}

/** Reads the last complete line of a file without reading all of it. */
function readLastLine(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let chunk = 4096;
    for (;;) {
      const start = Math.max(0, size - chunk);
      const buffer = Buffer.alloc(size - start);
      readSync(fd, buffer, 0, buffer.length, start);
      const text = buffer.toString('utf8').replace(/\n+$/, '');
      const cut = text.lastIndexOf('\n');
      if (cut >= 0 || start === 0) return text.slice(cut + 1) || undefined;
      chunk *= 4;
    }
  } finally {
    closeSync(fd);
  }
}
