import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ComposedConsole } from '../../../src/main/composition.ts';
import { dispatchCall } from '../../../src/main/dispatch.ts';
import type { IpcCallName, IpcError, IpcInput, IpcOutput, PreflightProgress } from '#contract/ipc';
import { PROFILE_FORMAT, PROFILE_VERSION, type PreflightProfile, PreflightReportSchema } from '#contract/preflight';
import { freePort } from '../../helpers/ports.ts';
import { composeTestConsole } from '../../helpers/console.ts';
import { type TestServer, startTestServer, tempDir } from '../../helpers/server.ts';
import {
  type LoopbackListener,
  createCertificateAuthority,
  issueCertificate,
  startHttpListener,
  startSilentListener,
  startTlsListener,
} from '../../helpers/tls-targets.ts';
import { waitFor } from '../../helpers/wait.ts';

/**
 * The console's Pre-flight calls through its real IPC table: profiles kept
 * in the settings, runs against loopback listeners reached through TETHER_PREFLIGHT_MAP
 * with live progress events, reports, and the clear errors a user gets for bad input.
 */

const WARD: PreflightProfile = {
  format: PROFILE_FORMAT,
  version: PROFILE_VERSION,
  id: 'ward-7',
  name: 'Ward 7 injectors',
  targets: [
    { host: 'portal.ward7.example', port: 80 },
    { host: 'closed.ward7.example', port: 443 },
    { host: 'inspected.ward7.example', port: 443 },
  ],
};

interface Console {
  composed: ComposedConsole;
  progress: PreflightProgress[];
  call<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>>;
  fail<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcError>;
}

function openConsole(home: string, env: NodeJS.ProcessEnv): Console {
  const composed = composeTestConsole({
    home,
    env,
  });
  const progress: PreflightProgress[] = [];
  composed.events.attach((event, payload) => {
    if (event === 'preflight.progress') progress.push(payload as PreflightProgress);
  });
  const dispatch = <K extends IpcCallName>(name: K, input: IpcInput<K>) => dispatchCall(composed.handlers, name, input, (err) => console.error(err));
  return {
    composed,
    progress,
    call: async (name, input) => {
      const result = await dispatch(name, input);
      if (!result.ok) throw new Error(`${name} failed: ${result.error.code} ${result.error.message}`);
      return result.output as never;
    },
    fail: async (name, input) => {
      const result = await dispatch(name, input);
      if (result.ok) throw new Error(`${name} unexpectedly succeeded`);
      return result.error;
    },
  };
}

async function finishedRun(c: Console, runId: string): Promise<Extract<PreflightProgress, { kind: 'finished' }>> {
  return waitFor(() => c.progress.find((e): e is Extract<PreflightProgress, { kind: 'finished' }> => e.kind === 'finished' && e.runId === runId), {
    timeoutMs: 20_000,
    what: `run ${runId} to finish`,
  });
}

describe('console pre-flight', () => {
  const homes: string[] = [];
  let web: LoopbackListener;
  let inspected: LoopbackListener;
  let silent: LoopbackListener;
  let closedPort: number;
  let mapText: string;

  beforeAll(async () => {
    const inspectionCa = await createCertificateAuthority('Hospital Inspection CA');
    inspected = await startTlsListener(await issueCertificate(inspectionCa, ['inspected.ward7.example']), [inspectionCa.certPem]);
    web = await startHttpListener(200, 'ward-web/1.0');
    silent = await startSilentListener();
    closedPort = await freePort();
    mapText = [
      `portal.ward7.example=127.0.0.1:${web.port}`,
      `closed.ward7.example=127.0.0.1:${closedPort}`,
      `inspected.ward7.example=127.0.0.1:${inspected.port}`,
    ].join(',');
  });
  afterAll(async () => {
    await Promise.all([web, inspected, silent].map((l) => l?.close()));
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  const fresh = (env: NodeJS.ProcessEnv = {}): Console => {
    const home = tempDir('tether-preflight-console-');
    homes.push(home);
    return openConsole(home, { TETHER_PREFLIGHT_MAP: mapText, ...env });
  };

  it('keeps custom profiles in the settings, beside the built-in ones, and exports them as importable JSON', async () => {
    const home = tempDir('tether-preflight-console-');
    homes.push(home);
    const first = openConsole(home, {});
    await first.call('preflight.saveProfile', { profile: WARD });

    const again = openConsole(home, {});
    const { profiles } = await again.call('preflight.profiles', {});
    expect(profiles.map((e) => [e.source, e.profile.id])).toEqual([
      ['built-in', 'radimetrics'],
      ['built-in', 'medrad'],
      ['custom', 'ward-7'],
    ]);
    const exported = await again.call('preflight.exportProfile', { id: 'ward-7' });
    expect(exported.fileName).toBe('ward-7.preflight.json');
    expect(await again.call('preflight.importProfile', { json: exported.json })).toEqual(WARD);

    await again.call('preflight.deleteProfile', { id: 'ward-7' });
    expect((await again.call('preflight.profiles', {})).profiles.map((e) => e.profile.id)).toEqual(['radimetrics', 'medrad']);
    expect((await again.fail('preflight.deleteProfile', { id: 'medrad' })).code).toBe('NOT_FOUND');
  });

  it('refuses bad profiles with errors that say what to fix', async () => {
    const c = fresh();
    const notJson = await c.fail('preflight.importProfile', { json: '{"format": "tether.preflight-profile",' });
    expect(notJson.code).toBe('MALFORMED_JSON');

    const bad = await c.fail('preflight.importProfile', { json: JSON.stringify({ ...WARD, targets: [{ host: 'bad host!', port: 70000 }] }) });
    expect(bad.code).toBe('VALIDATION_FAILED');
    expect(bad.message).toContain('targets.0.host: not a host name or IP address');
    expect(bad.message).toContain('targets.0.port: ports run from 1 to 65535');

    const taken = await c.fail('preflight.saveProfile', { profile: { ...WARD, id: 'medrad' } });
    expect(taken.code).toBe('CONFLICT');
    const nameless = await c.fail('preflight.saveProfile', { profile: { ...WARD, name: ' ' } });
    expect(nameless.message).toContain('name: give the profile a name');
    expect((await c.call('preflight.profiles', {})).profiles).toHaveLength(2);
  });

  it('runs a custom profile through the host mapping: rows arrive live, then the report with every row judged', async () => {
    const c = fresh();
    await c.call('preflight.saveProfile', { profile: WARD });
    const { runId, targets } = await c.call('preflight.run', { profileId: 'ward-7' });
    expect(targets).toEqual([
      { host: 'portal.ward7.example', port: 80, protocol: 'http' },
      { host: 'closed.ward7.example', port: 443, protocol: 'tls' },
      { host: 'inspected.ward7.example', port: 443, protocol: 'tls' },
    ]);
    const done = await finishedRun(c, runId);

    const rowsLive = c.progress.filter((e) => e.kind === 'check-finished' && e.runId === runId);
    expect(rowsLive).toHaveLength(3);
    expect(done.canceled).toBe(false);
    const report = done.report;
    expect(report.verdict.status).toBe('blocked');
    expect(report.rows.map((r) => [r.host, r.verdict.level, r.problem?.kind ?? null])).toEqual([
      ['portal.ward7.example', 'ok', null],
      ['closed.ward7.example', 'blocked', 'tcp-refused'],
      ['inspected.ward7.example', 'blocked', 'unexpected-issuer'],
    ]);
    expect(report.verdict.reasons).toContain('Outbound TCP 443 to closed.ward7.example is blocked (connection refused) — the device cannot reach the service');
    expect(report.verdict.reasons.some((r) => r.includes('is intercepted (issuer: Hospital Inspection CA)'))).toBe(true);
    expect(report.settings.hostMap).toHaveLength(3);

    const json = await c.call('preflight.report', { runId, format: 'json' });
    expect(PreflightReportSchema.parse(JSON.parse(json.text)).rows).toHaveLength(3);
    const html = await c.call('preflight.report', { runId, format: 'html' });
    for (const host of ['portal.ward7.example', 'closed.ward7.example', 'inspected.ward7.example']) expect(html.text).toContain(host);

    const pdf = await c.fail('preflight.savePdf', { runId });
    expect(pdf.code).toBe('METHOD_NOT_ALLOWED');
    expect(pdf.message).toContain('print it to PDF');
  });

  it('cancels a run: unfinished rows are marked not checked and the verdict says incomplete', async () => {
    const c = fresh({ TETHER_PREFLIGHT_MAP: `stuck.ward7.example=127.0.0.1:${silent.port}` });
    await c.call('preflight.saveProfile', { profile: { ...WARD, id: 'stuck', targets: [{ host: 'stuck.ward7.example', port: 443 }] } });
    const { runId } = await c.call('preflight.run', { profileId: 'stuck' });
    await waitFor(() => c.progress.some((e) => e.kind === 'check-started' && e.runId === runId), { what: 'the check to start' });
    expect((await c.fail('preflight.report', { runId, format: 'json' })).code).toBe('CONFLICT');

    await c.call('preflight.cancel', { runId });
    const done = await finishedRun(c, runId);
    expect(done.canceled).toBe(true);
    expect(done.report.verdict.status).toBe('incomplete');
    expect(done.report.rows[0]?.verdict.level).toBe('not-run');
  });

  it('under CI refuses a built-in profile whose hosts are not all mapped, and names a bad mapping variable', async () => {
    const ci = fresh({ CI: 'true' });
    const refused = await ci.fail('preflight.run', { profileId: 'medrad' });
    expect(refused.code).toBe('FORBIDDEN');
    expect(refused.message).toContain('TETHER_PREFLIGHT_MAP');
    expect(ci.progress).toHaveLength(0);

    const badMap = fresh({ TETHER_PREFLIGHT_MAP: 'medrad.axeda.com=somewhere' });
    const error = await badMap.fail('preflight.run', { profileId: 'medrad' });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('TETHER_PREFLIGHT_MAP: host mapping "medrad.axeda.com=somewhere" is invalid');

    expect((await ci.fail('preflight.run', { profileId: 'nope' })).code).toBe('NOT_FOUND');
  });

  it('refuses a proxy it cannot use before contacting anything', async () => {
    const c = fresh();
    await c.call('preflight.saveProfile', { profile: WARD });
    const badProxy = await c.fail('preflight.run', { profileId: 'ward-7', proxy: { url: 'https://proxy.ward7.example:3128' } });
    expect(badProxy.code).toBe('VALIDATION_FAILED');
    expect(badProxy.message).toContain('must start with http://');
    expect(c.progress).toHaveLength(0);
  });

  describe('signed in', () => {
    let ts: TestServer;
    beforeAll(async () => {
      ts = await startTestServer();
    });
    afterAll(async () => {
      await ts?.destroy();
    });

    it("derives a profile from the server's URL and passes it, trusting the server's pinned CA", async () => {
      const c = fresh({ TETHER_PREFLIGHT_MAP: '' });
      const profile = await c.call('profiles.save', { name: 'Test server', url: ts.url, caPem: ts.ca, proxy: null });
      expect((await c.call('preflight.profiles', {})).profiles.some((e) => e.source === 'server')).toBe(false);
      await c.call('session.signIn', { profileId: profile.id, username: ts.admin.username, password: ts.admin.password });

      const port = Number(new URL(ts.url).port);
      const { agentPort, consolePort } = ts.server.services.tunnels.relayPorts;
      // the relay's ports arrive with the server's health answer, just after the sign-in
      const server = await waitFor(async () => {
        const entry = (await c.call('preflight.profiles', {})).profiles.find((e) => e.source === 'server');
        return entry && entry.profile.targets.length === 3 ? entry : undefined;
      }, { what: 'the relay ports in the derived profile' });
      expect(server.profile.targets).toEqual([
        { host: '127.0.0.1', port, protocol: 'tls', need: 'required' },
        { host: '127.0.0.1', port: agentPort, protocol: 'tls', need: 'preferred', fallbackPort: port },
        { host: '127.0.0.1', port: consolePort, protocol: 'tls', need: 'preferred', fallbackPort: port },
      ]);
      const { runId } = await c.call('preflight.run', { profileId: 'tether-server' });
      const done = await finishedRun(c, runId);
      expect(done.report.verdict.status).toBe('ready');
      expect(done.report.rows[0]?.tls?.trusted).toBe(true);
      await c.call('session.signOut', {});
    });
  });
});
