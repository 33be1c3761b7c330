import { createHash } from 'node:crypto';
import { canonicalJson } from '#contract/canonical-json';

/** The `prev` of the first entry of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Hash of one link of an append-only chain: SHA-256 over the previous link's hash and the
 * canonical JSON of this entry's content. Changing, removing or reordering any entry
 * changes every hash after it. Shared by the server's audit log and the agent's local
 * audit file so both verify the same way.
 */
export function chainHash(prevHash: string, content: unknown): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson(content)).digest('hex');
}

/** Result of walking a chain from its first entry. */
export interface ChainVerification {
  ok: boolean;
  checked: number;
  firstBadSeq?: number;
  reason?: string;
}

/** An entry as a verifier sees it: its sequence number, its links, and what was hashed. */
export interface ChainLink {
  seq: number;
  prevHash: string;
  hash: string;
  content: unknown;
}

/**
 * Streaming verifier: feed links in sequence order; the first broken link (wrong hash,
 * wrong previous hash, a gap or repeat in sequence numbers) is reported by seq.
 */
export class ChainVerifier {
  private expectedPrev = GENESIS_HASH;
  private expectedSeq = 1;
  private checked = 0;
  private failure: ChainVerification | undefined;

  /** Returns false once the chain is known broken (further links are ignored). */
  add(link: ChainLink): boolean {
    if (this.failure) return false;
    if (link.seq !== this.expectedSeq) {
      return this.fail(this.expectedSeq, link.seq > this.expectedSeq
        ? `entries ${this.expectedSeq}..${link.seq - 1} are missing`
        : `entry ${link.seq} is out of order`);
    }
    if (link.prevHash !== this.expectedPrev) {
      return this.fail(link.seq, 'previous-hash link does not match the entry before it');
    }
    if (chainHash(link.prevHash, link.content) !== link.hash) {
      return this.fail(link.seq, 'content does not match its hash (entry was altered)');
    }
    this.checked += 1;
    this.expectedPrev = link.hash;
    this.expectedSeq = link.seq + 1;
    return true;
  }

  /** Final verdict; `head` (when known) catches entries deleted from the end. */
  finish(head?: { seq: number; hash: string }): ChainVerification {
    if (this.failure) return this.failure;
    if (head && (head.seq !== this.expectedSeq - 1 || (head.seq > 0 && head.hash !== this.expectedPrev))) {
      return {
        ok: false,
        checked: this.checked,
        firstBadSeq: this.expectedSeq,
        reason: `chain ends at entry ${this.expectedSeq - 1} but the recorded head is entry ${head.seq}`,
      };
    }
    return { ok: true, checked: this.checked };
  }

  private fail(seq: number, reason: string): false {
    this.failure = { ok: false, checked: this.checked, firstBadSeq: seq, reason };
    return false;
  }
}
