import { describe, expect, it } from 'vitest';
import { ChainVerifier, GENESIS_HASH, chainHash, type ChainLink } from '#node-lib/hash-chain';

/** Builds a valid chain of `n` links whose content is `{ seq, action }`. */
function buildChain(n: number): ChainLink[] {
  const links: ChainLink[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq += 1) {
    const content = { seq, action: `action-${seq}`, detail: { n: seq } };
    const hash = chainHash(prev, content);
    links.push({ seq, prevHash: prev, hash, content });
    prev = hash;
  }
  return links;
}

function verify(links: readonly ChainLink[], head?: { seq: number; hash: string }) {
  const verifier = new ChainVerifier();
  for (const link of links) verifier.add(link);
  return verifier.finish(head);
}

function at(links: ChainLink[], index: number): ChainLink {
  const link = links[index];
  if (!link) throw new Error(`no link at ${index}`);
  return link;
}

describe('hash chain', () => {
  it('verifies a valid chain and counts every link', () => {
    const links = buildChain(10);
    const last = at(links, 9);
    expect(verify(links)).toEqual({ ok: true, checked: 10 });
    expect(verify(links, { seq: last.seq, hash: last.hash })).toEqual({ ok: true, checked: 10 });
  });

  it('verifies an empty chain against an empty head', () => {
    expect(verify([], { seq: 0, hash: GENESIS_HASH })).toEqual({ ok: true, checked: 0 });
  });

  it('hashes the same content alike whatever its key order, and differently after another previous hash', () => {
    expect(chainHash(GENESIS_HASH, { a: 1, b: 2 })).toBe(chainHash(GENESIS_HASH, { b: 2, a: 1 }));
    expect(chainHash(GENESIS_HASH, { a: 1 })).not.toBe(chainHash('1'.repeat(64), { a: 1 }));
    expect(chainHash(GENESIS_HASH, { a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('detects altered content at the altered entry', () => {
    const links = buildChain(6);
    links[3] = { ...at(links, 3), content: { seq: 4, action: 'something-else', detail: { n: 4 } } };
    const result = verify(links);
    expect(result.ok).toBe(false);
    expect(result.firstBadSeq).toBe(4);
    expect(result.checked).toBe(3);
  });

  it('detects an altered previous-hash link at that entry', () => {
    const links = buildChain(6);
    links[2] = { ...at(links, 2), prevHash: 'f'.repeat(64) };
    const result = verify(links);
    expect(result.ok).toBe(false);
    expect(result.firstBadSeq).toBe(3);
  });

  it('detects an entry re-hashed after alteration at the entry after it', () => {
    const links = buildChain(6);
    const altered = { seq: 3, action: 'forged', detail: { n: 3 } };
    links[2] = { ...at(links, 2), content: altered, hash: chainHash(at(links, 2).prevHash, altered) };
    const result = verify(links);
    expect(result.ok).toBe(false);
    expect(result.firstBadSeq).toBe(4);
  });

  it('detects a gap in sequence numbers at the first missing seq', () => {
    const links = buildChain(8);
    links.splice(4, 2); // removes seq 5 and 6
    const result = verify(links);
    expect(result.ok).toBe(false);
    expect(result.firstBadSeq).toBe(5);
    expect(result.checked).toBe(4);
  });

  it('detects a repeated seq at the seq that was expected next', () => {
    const links = buildChain(5);
    links.splice(3, 0, at(links, 2)); // seq 3 twice
    const result = verify(links);
    expect(result.ok).toBe(false);
    expect(result.firstBadSeq).toBe(4);
  });

  it('detects a truncated tail when the recorded head is given to finish', () => {
    const links = buildChain(7);
    const last = at(links, 6);
    const result = verify(links.slice(0, 5), { seq: last.seq, hash: last.hash });
    expect(result.ok).toBe(false);
    expect(result.firstBadSeq).toBe(6);
    expect(result.checked).toBe(5);
  });

  it('detects a head whose hash does not match the last entry', () => {
    const links = buildChain(4);
    const result = verify(links, { seq: 4, hash: 'a'.repeat(64) });
    expect(result.ok).toBe(false);
  });

  it('ignores links after the first break and reports the first one', () => {
    const verifier = new ChainVerifier();
    const links = buildChain(5);
    links[1] = { ...at(links, 1), content: { altered: true } };
    links[3] = { ...at(links, 3), content: { altered: true } };
    const accepted = links.map((link) => verifier.add(link));
    expect(accepted).toEqual([true, false, false, false, false]);
    expect(verifier.finish().firstBadSeq).toBe(2);
  });
});
