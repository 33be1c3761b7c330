import { describe, expect, it } from 'vitest';
import type { CommandHandler } from '../../../agent-sim/agent/executor.ts';
import { registerDiagnosticHandlers } from '../../../agent-sim/agent/handlers.ts';
import { createSimulatedDevice } from '../../../agent-sim/devices/index.ts';
import { DIAGNOSTIC_CATALOG } from '#contract/protocol/diagnostics';
import { CommandUpdateSchema } from '#contract/protocol/poll';
import { waitFor } from '../../helpers/wait.ts';
import {
  SESSION_ID,
  deviceSession,
  diagnostic,
  rigsForEachTest,
  signGrant,
} from './session-harness.ts';

const fixture = rigsForEachTest();
const rig = fixture.rig;

/** A self-test handler that records whether it ever ran. */
function recordingSelfTest(): { handler: CommandHandler; runs: number } {
  const state = {
    runs: 0,
    handler: (() => {
      state.runs += 1;
      return Promise.resolve({ passed: true, checks: [] });
    }) as CommandHandler,
  };
  return state;
}

describe('the agent verifies the grant of every privileged command itself', () => {
  it('runs a privileged command whose grant the pinned key signed for this device, session and scope', async () => {
    const r = rig();
    const selfTest = recordingSelfTest();
    r.executor.register('self-test', selfTest.handler);

    await r.executor.accept([diagnostic('cmd-ok', await signGrant(fixture.keys().server))]);
    await waitFor(() => r.last('cmd-ok')?.state === 'succeeded', { timeoutMs: 2000 });

    expect(selfTest.runs).toBe(1);
    expect(r.statesOf('cmd-ok')).toEqual(['running', 'succeeded']);
    const start = r.audit().find((e) => e.action === 'command.start');
    expect(start?.detail).toMatchObject({ commandId: 'cmd-ok', name: 'self-test', sessionId: SESSION_ID });
  });

  const refusals: { name: string; reason: string; words: RegExp; grant: () => Promise<string | undefined> }[] = [
    { name: 'a forged grant (signed by another key)', reason: 'forged', words: /not signed by the server this device trusts/, grant: () => signGrant(fixture.keys().forger) },
    { name: 'an expired grant', reason: 'expired', words: /expired/, grant: () => signGrant(fixture.keys().server, { exp: Math.floor(Date.now() / 1000) - 5 }) },
    { name: 'a grant for another device', reason: 'other-device', words: /another device/, grant: () => signGrant(fixture.keys().server, { sub: 'a1b2c3d4-0000-4000-8000-0000000000ff' }) },
    { name: 'a grant for another session', reason: 'other-session', words: /another session/, grant: () => signGrant(fixture.keys().server, { sid: 'a1b2c3d4-0000-4000-8000-0000000000bb' }) },
    { name: 'a grant lacking the scope', reason: 'missing-scope', words: /lacks the "diagnose" scope/, grant: () => signGrant(fixture.keys().server, { scopes: ['files', 'tunnel'] }) },
    { name: 'no grant at all', reason: 'no-grant', words: /without a session grant/, grant: () => Promise.resolve(undefined) },
  ];

  for (const refusal of refusals) {
    it(`refuses ${refusal.name} with GRANT_INVALID, audits why, and never runs the handler`, async () => {
      const r = rig();
      const selfTest = recordingSelfTest();
      r.executor.register('self-test', selfTest.handler);

      await r.executor.accept([diagnostic('cmd-bad', await refusal.grant())]);

      expect(selfTest.runs).toBe(0);
      expect(r.statesOf('cmd-bad')).toEqual(['failed']);
      const error = r.last('cmd-bad')?.error;
      expect(error?.code).toBe('GRANT_INVALID');
      expect(error?.message).toMatch(refusal.words);
      const refused = r.audit().filter((e) => e.action === 'command.refused');
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ outcome: 'denied', detail: { commandId: 'cmd-bad', name: 'self-test', code: 'GRANT_INVALID', grantCheck: refusal.reason } });
      expect(String(refused[0]?.detail.reason)).toMatch(refusal.words);
      expect(r.audit().some((e) => e.action === 'command.start')).toBe(false);
    });
  }

  it('refuses a valid grant for a session the operator revoked at the device, even while the server still lists it', async () => {
    const r = rig();
    const selfTest = recordingSelfTest();
    r.executor.register('self-test', selfTest.handler);
    const grant = await signGrant(fixture.keys().server);
    await r.sessions.apply({ consents: [], sessions: [deviceSession(grant)], endedSessions: [] });
    r.sessions.revokeSession(SESSION_ID, 'Pat Biomed');
    await r.sessions.apply({ consents: [], sessions: [deviceSession(grant)], endedSessions: [] });

    await r.executor.accept([diagnostic('cmd-revoked', grant)]);

    expect(selfTest.runs).toBe(0);
    expect(r.last('cmd-revoked')?.error).toEqual({ code: 'GRANT_INVALID', message: 'grant refused: the session was revoked at the device by Pat Biomed' });
    expect(r.audit().find((e) => e.action === 'command.refused')).toMatchObject({ outcome: 'denied', detail: { grantCheck: 'revoked' } });
    expect(r.sessions.activeSessions()).toEqual([]);
  });

  it('refuses every privileged command when no grant key was pinned at enrollment', async () => {
    const r = rig({ pinnedKey: false });
    const selfTest = recordingSelfTest();
    r.executor.register('self-test', selfTest.handler);
    await r.executor.accept([diagnostic('cmd-unpinned', await signGrant(fixture.keys().server))]);
    expect(selfTest.runs).toBe(0);
    expect(r.last('cmd-unpinned')?.error?.message).toMatch(/no grant key is pinned.*re-enroll/);
  });

  it('runs basic commands without a grant, and checks privileged ones before their parameters', async () => {
    const r = rig();
    r.executor.register('ping', () => Promise.resolve({ agentTime: 1 }));
    void r.executor.accept([{ id: 'cmd-ping', name: 'ping', params: {}, ttlMs: 10_000, attempt: 1 }]);
    expect(r.statesOf('cmd-ping')).toEqual(['running']); // accepted synchronously, as before
    await r.executor.accept([diagnostic('cmd-params', await signGrant(fixture.keys().forger), { params: { extended: 'yes' } })]);
    expect(r.last('cmd-params')?.error?.code).toBe('GRANT_INVALID');
  });

  it('runs a simulated diagnostic end to end under a valid grant: progress, output, schema-valid result', async () => {
    const r = rig();
    const device = createSimulatedDevice({ serial: 'SFX-GRANT01', modelId: 'stellant-flex', diagnosticStepMs: 5 });
    registerDiagnosticHandlers(r.executor, device);

    await r.executor.accept([diagnostic('cmd-selftest', await signGrant(fixture.keys().server), { params: { extended: true } })]);
    await waitFor(() => r.last('cmd-selftest')?.state === 'succeeded', { timeoutMs: 5000 });

    for (const update of r.updates) expect(CommandUpdateSchema.safeParse(update).success).toBe(true);
    const result = DIAGNOSTIC_CATALOG['self-test'].result.parse(r.last('cmd-selftest')?.result);
    expect(result.checks.length).toBeGreaterThan(6);
    const output = r.updates.flatMap((u) => u.output ?? []);
    expect(output[0]).toMatch(/^Self-test started/);
    expect(output.at(-1)).toMatch(/^Self-test passed/);
    expect(r.updates.some((u) => u.progress?.percent === 100)).toBe(true);
  });
});
