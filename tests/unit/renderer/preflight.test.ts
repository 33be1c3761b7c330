import { describe, expect, it } from 'vitest';
import { buildReport } from '../../../src/main/services/preflight/report.ts';
import { editedProfile, hostLines, parseHostLines, profileIdFor } from '../../../src/renderer/lib/preflight-hosts.ts';
import { applyProgress, dnsCell, isRunActive, rowResultLabel, runProgress, sessionCell, startedRun, tcpCell } from '../../../src/renderer/stores/preflight-reducers.ts';
import { createPreflightStore } from '../../../src/renderer/stores/preflight-store.ts';
import type { IpcCallName, IpcInput, IpcOutput, PreflightProgress, TetherBridge } from '#contract/ipc';
import { PROFILE_FORMAT, PROFILE_VERSION, type PreflightProfile } from '#contract/preflight';
import { row } from '../preflight/fixtures.ts';

const PROFILE: PreflightProfile = {
  format: PROFILE_FORMAT,
  version: PROFILE_VERSION,
  id: 'ward-7',
  name: 'Ward 7',
  targets: [
    { host: 'a.example', port: 443 },
    { host: 'a.example', port: 17001 },
    { host: 'b.example', port: 80 },
  ],
};

const STARTED = {
  runId: 'run-1',
  targets: [
    { host: 'a.example', port: 443, protocol: 'tls' as const },
    { host: 'a.example', port: 17001, protocol: 'tls' as const },
    { host: 'b.example', port: 80, protocol: 'http' as const },
  ],
};

function finishedEvent(runId: string, canceled = false): PreflightProgress {
  const rows = [row('a.example', 443), row('a.example', 17001, 'tcp-refused'), row('b.example', 80)];
  const report = buildReport(
    { profile: PROFILE, settings: { proxyUrl: null, proxyCredentials: false, hostMap: [], timeoutMs: 5000, concurrency: 8 }, startedAt: 't0', finishedAt: 't1', rows, canceled },
    'test',
    Date.parse('2026-03-01T12:00:00.000Z'),
  );
  return { kind: 'finished', runId, canceled, report };
}

describe('pre-flight run view', () => {
  it('shows every row waiting, then checking, then done with its verdict as events arrive', () => {
    let run = startedRun('Ward 7', STARTED);
    expect(run.rows.map(rowResultLabel)).toEqual(['Waiting', 'Waiting', 'Waiting']);
    expect(isRunActive(run)).toBe(true);

    run = applyProgress(run, { kind: 'check-started', runId: 'run-1', index: 1, total: 3 });
    expect(rowResultLabel(run.rows[1]!)).toBe('Checking…');
    run = applyProgress(run, {
      kind: 'check-finished',
      runId: 'run-1',
      index: 1,
      total: 3,
      row: row('a.example', 17001, 'tcp-refused'),
      verdict: { level: 'blocked', reason: 'Outbound TCP 17001 to a.example is blocked' },
    });
    expect(rowResultLabel(run.rows[1]!)).toBe('Blocked');
    expect(runProgress(run)).toEqual({ done: 1, total: 3 });
    expect(tcpCell(run.rows[1]!.row)).toBe('refused');
  });

  it('takes the final verdicts from the report: a preferred port whose fallback works only warns', () => {
    let run = startedRun('Ward 7', STARTED);
    run = applyProgress(run, finishedEvent('run-1'));
    expect(run.phase).toBe('finished');
    expect(isRunActive(run)).toBe(false);
    expect(run.rows.map((r) => r.verdict?.level)).toEqual(['ok', 'warning', 'ok']);
    expect(run.rows[1]?.verdict?.reason).toContain('remote sessions will fall back to 443');
    expect(run.verdict?.status).toBe('ready-with-warnings');
    expect(runProgress(run)).toEqual({ done: 3, total: 3 });
  });

  it("ignores another run's events and records why a run failed", () => {
    const run = startedRun('Ward 7', STARTED);
    expect(applyProgress(run, finishedEvent('run-2'))).toBe(run);
    const failed = applyProgress(run, { kind: 'failed', runId: 'run-1', code: 'INTERNAL', message: 'the pre-flight stopped unexpectedly' });
    expect(failed.phase).toBe('failed');
    expect(failed.error).toBe('the pre-flight stopped unexpectedly');
    expect(applyProgress(run, finishedEvent('run-1', true)).phase).toBe('canceled');
  });

  it('describes DNS, TCP and TLS/HTTP facts in the table cells', () => {
    expect(dnsCell(row('a.example', 443))).toBe('mapped → 127.0.0.1:443');
    expect(dnsCell(null)).toBe('—');
    expect(sessionCell(row('a.example', 443))).toBe('TLSv1.3 (3.0 ms)');
    expect(sessionCell(row('b.example', 80))).toBe('HTTP 200 (1.0 ms)');
    expect(tcpCell(row('b.example', 80))).toBe('1.0 ms');
  });
});

describe('pre-flight profile editor text', () => {
  it('writes a profile as one host a line and reads it back', () => {
    expect(hostLines(PROFILE)).toBe('a.example: 443, 17001\nb.example: 80');
    expect(parseHostLines(hostLines(PROFILE)).targets).toEqual(PROFILE.targets);
  });

  it('names the line of each mistake', () => {
    const { problems } = parseHostLines('a.example: 443, 99999\nb.example\n\nc.example: http');
    expect(problems).toEqual([
      'line 1: "99999" is not a port (1–65535)',
      'line 2: write the host, a colon, then its ports (e.g. portal.hospital.example: 443, 8080)',
      'line 4: "http" is not a port (1–65535)',
    ]);
    expect(parseHostLines('  \n').problems).toEqual(['add at least one host with its ports']);
  });

  it('keeps the settings of targets an imported profile spelled out, and derives a new id from the name', () => {
    const imported: PreflightProfile = { ...PROFILE, targets: [{ host: 'a.example', port: 8443, protocol: 'tls', need: 'optional' }] };
    const edited = editedProfile(imported, ' Ward 7 ', [{ host: 'a.example', port: 8443 }, { host: 'c.example', port: 443 }]);
    expect(edited.id).toBe('ward-7');
    expect(edited.name).toBe('Ward 7');
    expect(edited.targets).toEqual([{ host: 'a.example', port: 8443, protocol: 'tls', need: 'optional' }, { host: 'c.example', port: 443 }]);
    expect(profileIdFor('ICU — Block B!')).toBe('icu-block-b');
  });
});

describe('pre-flight store', () => {
  function fakeBridge(answers: Partial<{ [K in IpcCallName]: (input: IpcInput<K>) => IpcOutput<K> }>) {
    const calls: { name: IpcCallName; input: unknown }[] = [];
    const bridge: TetherBridge = {
      invoke<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>> {
        calls.push({ name, input });
        const answer = answers[name] as ((input: IpcInput<K>) => IpcOutput<K>) | undefined;
        return answer ? Promise.resolve(answer(input)) : Promise.reject(new Error(`unexpected call ${name}`));
      },
      on: () => () => undefined,
    };
    return { bridge, calls };
  }

  it('loads the profiles, runs the chosen one, follows its events and asks for its report only when it finished', async () => {
    const { bridge, calls } = fakeBridge({
      'preflight.profiles': () => ({ profiles: [{ source: 'custom', profile: PROFILE }] }),
      'preflight.run': () => STARTED,
      'preflight.cancel': () => ({}),
      'preflight.report': () => ({ fileName: 'r.json', text: '{}' }),
    });
    const store = createPreflightStore(bridge);
    await store.getState().load();
    expect(store.getState().selectedId).toBe('ward-7');

    await store.getState().start(' http://proxy.ward7.example:3128 ');
    expect(calls.at(-1)).toEqual({ name: 'preflight.run', input: { profileId: 'ward-7', proxy: { url: 'http://proxy.ward7.example:3128' } } });
    await expect(store.getState().report('json')).rejects.toThrow('run the check first');
    await store.getState().cancel();
    expect(store.getState().run?.phase).toBe('canceling');

    store.getState().receive(finishedEvent('run-1', true));
    expect(store.getState().run?.phase).toBe('canceled');
    expect(await store.getState().report('json')).toEqual({ fileName: 'r.json', text: '{}' });
    expect(calls.at(-1)).toEqual({ name: 'preflight.report', input: { runId: 'run-1', format: 'json' } });
  });

  it('shows why a run could not start', async () => {
    const { bridge } = fakeBridge({
      'preflight.profiles': () => ({ profiles: [{ source: 'built-in', profile: { ...PROFILE, id: 'medrad' } }] }),
      'preflight.run': () => {
        // as the bridge rejects: an error carrying the contract's code
        throw Object.assign(new Error('CI is set: refusing to contact the real hosts of the built-in profile "medrad"'), { code: 'FORBIDDEN' });
      },
    });
    const store = createPreflightStore(bridge);
    await store.getState().load();
    await store.getState().start();
    expect(store.getState().run).toBeNull();
    expect(store.getState().error).toContain('CI is set: refusing to contact the real hosts');
  });
});
