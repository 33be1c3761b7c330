import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importSPKI, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../../agent-sim/fleet.ts';
import { verifyLocalAudit } from '../../../agent-sim/agent/local-audit.ts';
import type { AuditEntry } from '#contract/api/audit';
import type { CommandView } from '#contract/api/commands';
import type { DeviceDetail } from '#contract/api/fleet';
import type { DiagnosticAction, SessionView } from '#contract/api/sessions';
import type { ErrorBody } from '#contract/errors';
import type { ScopePolicies } from '#contract/sessions';
import type { ApiClient } from '../../helpers/http.ts';
import { type SeededDevice, createUser, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

const ALLOW: ScopePolicies = { diagnose: 'allow', files: 'allow', tunnel: 'allow', deploy: 'allow' };

describe('service sessions on the server', () => {
  let ts: TestServer;
  let fleet: Fleet;
  let devices: SeededDevice[];
  let customerId: string;
  let otherDevice: SeededDevice;
  let engineer: ApiClient;
  let second: ApiClient;
  let viewer: ApiClient;
  let outsider: ApiClient;

  const request = (client: ApiClient, deviceId: string, body: Record<string, unknown>) =>
    client.post<SessionView & ErrorBody>(`/api/v1/devices/${deviceId}/sessions`, body);
  const audit = async (action: string) => (await ts.adminClient.get<{ items: AuditEntry[] }>(`/api/v1/audit?action=${action}&limit=200`)).body.items;

  beforeAll(async () => {
    ts = await startTestServer({ consentTimeoutSeconds: 5, sessionSweepMs: 100, pollWindowMs: 5000, missedPollsBeforeMissing: 1, statusGraceMs: 500, statusSweepMs: 100 });
    const main = await seedCustomer(ts, 'Session Hospital', [
      { serial: 'SFX-SE00001', modelId: 'stellant-flex' },
      { serial: 'SFX-SE00002', modelId: 'stellant-flex' },
      { serial: 'RAD-SE00003', modelId: 'radimetrics' },
      { serial: 'MRX-SE00004', modelId: 'mrxperion' },
      { serial: 'SFX-SE00005', modelId: 'stellant-flex' },
      { serial: 'SFX-SE00006', modelId: 'stellant-flex' },
    ]);
    const other = await seedCustomer(ts, 'Elsewhere Clinic', [{ serial: 'SFX-SE00099', modelId: 'stellant-flex' }]);
    devices = main.devices;
    customerId = main.customer.id;
    otherDevice = other.devices[0]!;
    fleet = await startFleet(ts, [...devices, otherDevice], { tickMs: 500 });
    engineer = (await createUser(ts, 'sess-eng', 'engineer', [customerId])).client;
    second = (await createUser(ts, 'sess-second', 'engineer', [customerId])).client;
    viewer = (await createUser(ts, 'sess-viewer', 'viewer', [customerId])).client;
    outsider = (await createUser(ts, 'sess-outsider', 'engineer', [other.customer.id])).client;
    await waitFor(async () => (await ts.adminClient.get<{ counts: { online: number } }>('/api/v1/devices')).body.counts.online === 7, { timeoutMs: 30_000, what: 'agents online' });
  });

  afterAll(async () => {
    await fleet?.stopAll({ goodbye: false });
    await ts?.destroy();
  });

  it('validates the request: scopes, reason, duration', async () => {
    const id = devices[0]!.id;
    for (const body of [
      { scopes: [], reason: 'Ticket 1', durationMinutes: 30 },
      { scopes: ['diagnose', 'diagnose'], reason: 'Ticket 1', durationMinutes: 30 },
      { scopes: ['diagnose'], reason: '', durationMinutes: 30 },
      { scopes: ['diagnose'], reason: 'Ticket 1', durationMinutes: 0 },
      { scopes: ['root'], reason: 'Ticket 1', durationMinutes: 30 },
    ]) {
      const res = await request(engineer, id, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('keeps engineers outside the scope out (404) and viewers from requesting (403)', async () => {
    const res = await request(outsider, devices[0]!.id, { scopes: ['diagnose'], reason: 'Ticket 2', durationMinutes: 30 });
    expect(res.status).toBe(404);
    const byViewer = await request(viewer, devices[0]!.id, { scopes: ['diagnose'], reason: 'Ticket 2', durationMinutes: 30 });
    expect(byViewer.status).toBe(403);
    expect(byViewer.body.error.code).toBe('FORBIDDEN');
  });

  it('activates at once where the policy allows, with a grant the agent can verify, and the controller ends it', async () => {
    const device = devices[0]!;
    const put = await ts.adminClient.put(`/api/v1/devices/${device.id}/consent-policy`, { policies: ALLOW });
    expect(put.status).toBe(200);
    const started = Date.now();
    const res = await request(engineer, device.id, { scopes: ['diagnose'], reason: 'INC-1001 pressure errors', durationMinutes: 30 });
    expect(res.status).toBe(201);
    const session = res.body;
    expect(session).toMatchObject({ state: 'active', decidedBy: 'policy', scopes: ['diagnose'], engineer: { username: 'sess-eng' } });
    expect(Date.parse(session.expiresAt!) - started).toBeGreaterThan(29 * 60_000);
    expect(session.timeline.map((t) => t.type)).toEqual(['requested', 'activated']);

    // the grant the device receives: signed by the server's grant key, for this device and session
    const state = await ts.server.services.sessions.deviceState(device.id);
    expect(state.sessions).toHaveLength(1);
    const pem = createPublicKey(readFileSync(join(ts.dataDir, 'keys', 'grant.key.pem'), 'utf8')).export({ type: 'spki', format: 'pem' }).toString();
    const { payload } = await jwtVerify(state.sessions[0]!.grant, await importSPKI(pem, 'EdDSA'), { issuer: 'tether', audience: 'tether-agent' });
    expect(payload).toMatchObject({ sub: device.id, sid: session.id, scopes: ['diagnose'] });
    expect(payload.exp).toBe(Math.floor(Date.parse(session.expiresAt!) / 1000));

    const ended = await engineer.post<SessionView>(`/api/v1/sessions/${session.id}/end`);
    expect(ended.body).toMatchObject({ state: 'ended', endCause: 'USER_ENDED' });
    expect((await ts.server.services.sessions.deviceState(device.id)).endedSessions).toContainEqual({ sessionId: session.id, cause: 'USER_ENDED' });
    const actions = (await audit('session.end')).filter((e) => e.detail?.sessionId === session.id);
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({ actorName: 'sess-eng', detail: { cause: 'USER_ENDED' } });
  });

  it('denies at once where the policy denies a requested scope', async () => {
    const device = devices[1]!;
    await ts.adminClient.put(`/api/v1/devices/${device.id}/consent-policy`, { policies: { ...ALLOW, files: 'deny' } });
    const res = await request(engineer, device.id, { scopes: ['diagnose', 'files'], reason: 'INC-1002', durationMinutes: 30 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: 'denied', endCause: 'DENIED', decidedBy: 'policy' });
    expect(res.body.timeline.map((t) => t.type)).toEqual(['requested', 'policy-denied', 'denied']);
  });

  it('asks the device where the policy asks, and counts silence until the deadline as denied', async () => {
    const device = devices[2]!;
    const res = await request(engineer, device.id, { scopes: ['diagnose'], reason: 'INC-1003', durationMinutes: 30 });
    expect(res.body.state).toBe('awaiting-consent');
    expect(Date.parse(res.body.consentDeadline!) - Date.now()).toBeLessThanOrEqual(5000);
    const pending = await ts.server.services.sessions.deviceState(device.id);
    expect(pending.consents).toEqual([expect.objectContaining({ sessionId: res.body.id, kind: 'start', scopes: ['diagnose'], reason: 'INC-1003', durationMinutes: 30 })]);
    const timedOut = await waitFor(async () => {
      const view = (await engineer.get<SessionView>(`/api/v1/sessions/${res.body.id}`)).body;
      return view.state === 'denied' ? view : undefined;
    }, { timeoutMs: 15_000, what: 'consent timeout' });
    expect(timedOut.endCause).toBe('CONSENT_TIMEOUT');
    expect(timedOut.timeline.map((t) => t.type)).toContain('consent-timeout');
  });

  it('allows one controlling session per device; a second engineer joins as an observer who cannot run actions', async () => {
    const device = devices[3]!;
    await ts.adminClient.put(`/api/v1/devices/${device.id}/consent-policy`, { policies: ALLOW });
    const first = (await request(engineer, device.id, { scopes: ['diagnose'], reason: 'INC-1004', durationMinutes: 30 })).body;
    const busy = await request(second, device.id, { scopes: ['diagnose'], reason: 'INC-1005', durationMinutes: 30 });
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatchObject({ code: 'SESSION_BUSY', details: { sessionId: first.id, engineer: 'sess-eng' } });

    const joined = await second.post<SessionView>(`/api/v1/sessions/${first.id}/join`);
    expect(joined.body.observers.map((o) => o.username)).toEqual(['sess-second']);
    const seen = await ts.server.services.sessions.deviceState(device.id);
    expect(seen.sessions[0]).toMatchObject({ controller: { username: 'sess-eng' }, observers: [{ username: 'sess-second' }] });

    const byObserver = await second.post<ErrorBody>(`/api/v1/devices/${device.id}/commands`, { name: 'self-test', params: {}, sessionId: first.id });
    expect(byObserver.status).toBe(403);
    expect(byObserver.body.error.code).toBe('FORBIDDEN');
    const byViewer = await viewer.post<ErrorBody>(`/api/v1/sessions/${first.id}/end`);
    expect(byViewer.status).toBe(403);

    const left = await second.post<SessionView>(`/api/v1/sessions/${first.id}/leave`);
    expect(left.body.observers).toEqual([]);
    const terminated = await ts.adminClient.post<SessionView>(`/api/v1/sessions/${first.id}/end`);
    expect(terminated.body).toMatchObject({ state: 'ended', endCause: 'ADMIN_TERMINATED' });
  });

  it('runs diagnostics only inside an active session with the diagnose scope', async () => {
    const device = devices[4]!;
    const withoutSession = await engineer.post<ErrorBody>(`/api/v1/devices/${device.id}/commands`, { name: 'self-test', params: {} });
    expect(withoutSession.status).toBe(403);
    expect(withoutSession.body.error.code).toBe('SESSION_REQUIRED');

    await ts.adminClient.put(`/api/v1/devices/${device.id}/consent-policy`, { policies: ALLOW });
    const filesOnly = (await request(engineer, device.id, { scopes: ['files'], reason: 'INC-1006', durationMinutes: 30 })).body;
    const wrongScope = await engineer.post<ErrorBody>(`/api/v1/devices/${device.id}/commands`, { name: 'self-test', params: {}, sessionId: filesOnly.id });
    expect(wrongScope.body.error.code).toBe('SESSION_REQUIRED');
    await engineer.post(`/api/v1/sessions/${filesOnly.id}/end`);

    const diagnostics = await engineer.get<{ items: DiagnosticAction[] }>(`/api/v1/devices/${device.id}/diagnostics`);
    const names = diagnostics.body.items.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['self-test', 'pressure-transducer-check', 'plunger-calibration-check', 'collect-log-bundle']));
    expect(names).not.toContain('restart-service');
    const check = diagnostics.body.items.find((d) => d.name === 'pressure-transducer-check')!;
    expect(check.paramsSchema).toMatchObject({ type: 'object', properties: { targetPsi: { type: 'integer', minimum: 50, maximum: 1200 } } });

    const notOnModel = await engineer.post<ErrorBody>(`/api/v1/devices/${device.id}/commands`, { name: 'restart-service', params: { service: 'web' } });
    expect(notOnModel.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('cancels the queued work of a session that ends, and ends sessions of devices that go offline', async () => {
    const device = devices[5]!;
    await ts.adminClient.put(`/api/v1/devices/${device.id}/consent-policy`, { policies: ALLOW });
    const session = (await request(engineer, device.id, { scopes: ['diagnose'], reason: 'INC-1007', durationMinutes: 30 })).body;
    const member = fleet.get(device.serial);
    await member.agent.stop({ goodbye: false }); // still "online" for a moment: nothing picks the command up
    const queued = await engineer.post<{ id: string }>(`/api/v1/devices/${device.id}/commands`, { name: 'read-configuration', params: {}, sessionId: session.id });
    expect(queued.status).toBe(202);
    const ended = (await engineer.post<SessionView>(`/api/v1/sessions/${session.id}/end`)).body;
    expect(ended.endCause).toBe('USER_ENDED');
    const command = (await engineer.get<CommandView>(`/api/v1/commands/${queued.body.id}`)).body;
    expect(command).toMatchObject({ state: 'canceled', sessionId: session.id, error: { code: 'SESSION_ENDED' } });

    // a session on a device that then goes missing ends with DEVICE_OFFLINE
    const other = devices[0]!;
    const live = (await request(engineer, other.id, { scopes: ['diagnose'], reason: 'INC-1008', durationMinutes: 30 })).body;
    expect(live.state).toBe('active');
    await fleet.get(other.serial).agent.stop({ goodbye: true });
    const gone = await waitFor(async () => {
      const view = (await engineer.get<SessionView>(`/api/v1/sessions/${live.id}`)).body;
      return view.state === 'ended' ? view : undefined;
    }, { timeoutMs: 15_000, what: 'session ended by the device going offline' });
    expect(gone.endCause).toBe('DEVICE_OFFLINE');
    expect((await engineer.get<DeviceDetail>(`/api/v1/devices/${other.id}`)).body.status).toBe('offline');
  });

  it('extends at once where the policy allows', async () => {
    const device = devices[3]!;
    const session = (await request(engineer, device.id, { scopes: ['diagnose'], reason: 'INC-1009', durationMinutes: 10 })).body;
    const extended = await engineer.post<SessionView>(`/api/v1/sessions/${session.id}/extend`, { durationMinutes: 20 });
    expect(extended.status).toBe(200);
    expect(Date.parse(extended.body.expiresAt!) - Date.parse(session.expiresAt!)).toBe(20 * 60_000);
    expect(extended.body.timeline.map((t) => t.type)).toContain('extended');
    const byOther = await second.post<ErrorBody>(`/api/v1/sessions/${session.id}/extend`, { durationMinutes: 5 });
    expect(byOther.status).toBe(403);
    expect((await audit('session.extend')).some((e) => e.detail?.sessionId === session.id)).toBe(true);
    await engineer.post(`/api/v1/sessions/${session.id}/end`);
  });

  it('audits the whole session on the server and in the agent\'s local file: request, decisions, command, extension, end', async () => {
    const device = devices[1]!;
    const ASK: ScopePolicies = { diagnose: 'ask', files: 'ask', tunnel: 'ask', deploy: 'ask' };
    await ts.adminClient.put(`/api/v1/devices/${device.id}/consent-policy`, { policies: ASK });
    const session = (await request(engineer, device.id, { scopes: ['diagnose'], reason: 'INC-1010 audit trail', durationMinutes: 30 })).body;
    expect(session.state).toBe('awaiting-consent');
    const answer = async (kind: 'start' | 'extend') => {
      await waitFor(() => fleet.operatorView(device.serial).consents.some((c) => c.kind === kind) || undefined, { timeoutMs: 10_000, what: `the ${kind} consent at the device` });
      fleet.decideConsent(device.serial, session.id, true, 'Pat Biomed');
    };
    await answer('start');
    await waitFor(async () => (await engineer.get<SessionView>(`/api/v1/sessions/${session.id}`)).body.state === 'active' || undefined, { timeoutMs: 10_000, what: 'active' });

    const queued = await engineer.post<{ id: string }>(`/api/v1/devices/${device.id}/commands`, { name: 'pressure-transducer-check', params: { targetPsi: 300 }, sessionId: session.id });
    expect(queued.status).toBe(202);
    await waitFor(async () => (await engineer.get<CommandView>(`/api/v1/commands/${queued.body.id}`)).body.state === 'succeeded' || undefined, { timeoutMs: 30_000, what: 'the check done' });

    expect((await engineer.post<SessionView>(`/api/v1/sessions/${session.id}/extend`, { durationMinutes: 15 })).body.pendingExtension).not.toBeNull();
    await answer('extend');
    await waitFor(async () => (await engineer.get<SessionView>(`/api/v1/sessions/${session.id}`)).body.pendingExtension === null || undefined, { timeoutMs: 10_000, what: 'extended' });
    await engineer.post(`/api/v1/sessions/${session.id}/end`);

    // the server's trail, in order, each entry naming who
    const all = (await ts.adminClient.get<{ items: AuditEntry[] }>(`/api/v1/audit?targetId=${device.id}&limit=200`)).body.items;
    const trail = all.filter((e) => e.detail?.sessionId === session.id).sort((a, b) => a.seq - b.seq);
    expect(trail.map((e) => e.action)).toEqual([
      'session.request',
      'session.consent',
      'session.activate',
      'command.create',
      'command.result',
      'session.extend.request',
      'session.extend.consent',
      'session.extend',
      'session.end',
    ]);
    expect(trail[0]).toMatchObject({ actorName: 'sess-eng', detail: { scopes: ['diagnose'], reason: 'INC-1010 audit trail', durationMinutes: 30 } });
    expect(trail[1]).toMatchObject({ actorType: 'device', actorName: 'Pat Biomed', outcome: 'ok' });
    expect(Date.parse(String(trail[1]!.detail?.decidedAt))).not.toBeNaN();
    expect(trail[3]).toMatchObject({ actorName: 'sess-eng', detail: { name: 'pressure-transducer-check', params: { targetPsi: 300 } } });
    expect(trail[4]).toMatchObject({ outcome: 'ok', detail: { name: 'pressure-transducer-check', state: 'succeeded' } });
    expect(trail[6]).toMatchObject({ actorName: 'Pat Biomed', outcome: 'ok' });
    expect(trail[8]).toMatchObject({ actorName: 'sess-eng', detail: { cause: 'USER_ENDED' } });

    // the agent's own trail on the device, hash-chained
    const agentAudit = fleet.get(device.serial).agent.audit.path;
    await waitFor(() => readFileSync(agentAudit, 'utf8').includes('"session.ended"') || undefined, { timeoutMs: 10_000, what: 'the end in the local audit' });
    const local = readFileSync(agentAudit, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; outcome: string; detail: Record<string, unknown> });
    const mine = local.filter((e) => e.detail.sessionId === session.id || (e.detail.grant as { sid?: string } | undefined)?.sid === session.id);
    const actions = mine.map((e) => e.action);
    for (const action of ['consent.requested', 'consent.decided', 'session.started', 'command.start', 'command.end', 'session.extended', 'session.ended']) {
      expect(actions, action).toContain(action);
    }
    expect(mine.filter((e) => e.action === 'consent.decided').map((e) => e.detail.operator)).toEqual(['Pat Biomed', 'Pat Biomed']);
    expect(mine.find((e) => e.action === 'command.start')?.detail).toMatchObject({ name: 'pressure-transducer-check', params: { targetPsi: 300 } });
    expect(mine.find((e) => e.action === 'session.ended')?.detail).toMatchObject({ cause: 'USER_ENDED' });
    expect(verifyLocalAudit(agentAudit).ok).toBe(true);
  });

  it('lets only administrators change consent policies, and shows the policy in force', async () => {
    const device = devices[2]!;
    const denied = await engineer.put<ErrorBody>(`/api/v1/customers/${customerId}/consent-policy`, { policies: ALLOW });
    expect(denied.status).toBe(403);
    const set = await ts.adminClient.put<{ policies: ScopePolicies; inherited: boolean }>(`/api/v1/customers/${customerId}/consent-policy`, { policies: { ...ALLOW, deploy: 'deny' } });
    expect(set.body).toEqual({ policies: { ...ALLOW, deploy: 'deny' }, inherited: false });
    const effective = await engineer.get<{ policies: ScopePolicies; inherited: boolean }>(`/api/v1/devices/${device.id}/consent-policy`);
    expect(effective.body).toEqual({ policies: { ...ALLOW, deploy: 'deny' }, inherited: true });
    expect((await audit('admin.consent-policy')).length).toBeGreaterThanOrEqual(2);
    await ts.adminClient.put(`/api/v1/customers/${customerId}/consent-policy`, { policies: null });
  });
});
