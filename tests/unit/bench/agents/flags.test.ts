import { describe, expect, it } from 'vitest';
import { UsageError, parseBenchFlags } from '../../../../bench/agents/flags.ts';

describe('bench:agents flags', () => {
  it('defaults to 2,000 agents, a burst of 1,000 and a 25 s window', () => {
    expect(parseBenchFlags([])).toEqual({ agents: 2000, burst: 1000, pollWindowMs: 25_000, json: false, help: false });
  });

  it('caps the default burst at the number of agents', () => {
    expect(parseBenchFlags(['--agents', '200']).burst).toBe(200);
    expect(parseBenchFlags(['--agents', '200', '--burst', '50', '--window-ms', '1000', '--json'])).toEqual({
      agents: 200,
      burst: 50,
      pollWindowMs: 1000,
      json: true,
      help: false,
    });
  });

  it('refuses unknown flags, stray arguments and numbers it cannot run', () => {
    for (const argv of [['--agent', '5'], ['200'], ['--agents', 'many'], ['--agents', '0'], ['--agents', '10', '--burst', '11'], ['--window-ms', '50'], ['--agents', '1.5']]) {
      expect(() => parseBenchFlags(argv), argv.join(' ')).toThrow(UsageError);
    }
  });
});
