import { existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoginResponse } from '#contract/api/auth';
import type { AuditEntry } from '#contract/api/audit';
import type { DeviceDetail, DeviceListResponse } from '#contract/api/fleet';
import type { SessionView } from '#contract/api/sessions';
import { ApiClient } from '../../helpers/http.ts';
import { runTs, spawnTs, stopChild, waitForLine } from '../../helpers/processes.ts';
import { tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';
import { readFileSync } from 'node:fs';

interface Ready {
  event: 'ready';
  url: string;
  caCert: string;
  username: string;
  password: string;
  devices: number;
  dataDir: string;
}

async function startSim(args: string[]): Promise<{ child: ChildProcess; ready: Ready; client: ApiClient }> {
  const child = spawnTs('agent-sim/offline.ts', ['--json', '--fault-rate', '0', '--tick-ms', '200', ...args]);
  const { json } = await waitForLine<Ready>(child, (_line, json) => json?.event === 'ready', 90_000);
  const ready = json!;
  const ca = readFileSync(ready.caCert, 'utf8');
  const login = await new ApiClient(ready.url, ca).post<LoginResponse>('/api/v1/auth/login', { username: ready.username, password: ready.password });
  expect(login.status).toBe(200);
  return { child, ready, client: new ApiClient(ready.url, ca, login.body.accessToken) };
}

function send(child: ChildProcess, command: Record<string, unknown>): Promise<Record<string, unknown>> {
  const answer = waitForLine<Record<string, unknown>>(child, (_l, json) => json?.event === 'ack' || json?.event === 'error');
  child.stdin?.write(`${JSON.stringify(command)}\n`);
  return answer.then((a) => a.json!);
}

describe('npm run sim', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(children.map((c) => stopChild(c)));
  });

  it('starts server and fleet on loopback, prints one ready line, and the fleet comes online', async () => {
    const sim = await startSim(['--devices', '20']);
    children.push(sim.child);
    expect(sim.ready.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.ready.devices).toBe(20);
    const list = await waitFor(async () => {
      const res = await sim.client.get<DeviceListResponse>('/api/v1/devices?limit=100');
      return res.body.counts.online === 20 ? res.body : undefined;
    }, { timeoutMs: 30_000, what: 'all simulated devices online' });
    expect(new Set(list.items.map((d) => d.modelId)).size).toBe(5);
    const customers = await sim.client.get<{ items: { region: string }[] }>('/api/v1/customers');
    expect(new Set(customers.body.items.map((c) => c.region))).toEqual(new Set(['us', 'uk', 'au', 'jp']));

    // the fault injector, driven over stdin as the console will
    const injector = list.items.find((d) => d.modelId === 'stellant-flex')!;
    const ack = await send(sim.child, { cmd: 'fault', serial: injector.serial, fault: 'pressure-fault' });
    expect(ack).toMatchObject({ event: 'ack', cmd: 'fault', serial: injector.serial });
    const alarm = await waitFor(async () => {
      const detail = (await sim.client.get<DeviceDetail>(`/api/v1/devices/${injector.id}`)).body;
      return detail.alarms.find((a) => a.code === 'PRESSURE_LIMIT');
    }, { timeoutMs: 20_000, what: 'PRESSURE_LIMIT alarm' });
    expect(alarm.state).toBe('active');

    const bad = await send(sim.child, { cmd: 'fault', serial: injector.serial, fault: 'meltdown' });
    expect(bad).toMatchObject({ event: 'error' });
    expect(String(bad.message)).toMatch(/unknown fault/);
    const listed = await send(sim.child, { cmd: 'list' });
    expect((listed.devices as unknown[]).length).toBe(20);

    // clean stop: goodbye from every agent, temporary data removed
    const stopped = waitForLine<{ event: string }>(sim.child, (_l, json) => json?.event === 'stopped');
    sim.child.kill('SIGTERM');
    await stopped;
    const code = await new Promise((resolve) => sim.child.once('exit', resolve));
    expect(code).toBe(0);
    expect(existsSync(sim.ready.dataDir)).toBe(false);
  });

  it('answers a malformed JSON control line with a VALIDATION_FAILED error naming what is wrong, and keeps running', async () => {
    const sim = await startSim(['--devices', '1']);
    children.push(sim.child);
    const notJson = waitForLine<Record<string, unknown>>(sim.child, (_l, json) => json?.event === 'error');
    sim.child.stdin?.write('{"cmd":"fault","serial":\n');
    expect((await notJson).json).toMatchObject({ event: 'error', code: 'VALIDATION_FAILED', message: expect.stringMatching(/^not JSON: /) });

    const noSerial = await send(sim.child, { cmd: 'fault', fault: 'pressure-fault', durationMs: -1, id: 41 });
    expect(noSerial).toMatchObject({ event: 'error', id: 41, code: 'VALIDATION_FAILED' });
    expect(String(noSerial.message)).toMatch(/serial: required/);
    expect(String(noSerial.message)).toMatch(/durationMs: must be a positive number/);
    const unknown = await send(sim.child, { cmd: 'meltdown', id: 42 });
    expect(unknown).toMatchObject({ event: 'error', id: 42, code: 'VALIDATION_FAILED' });
    expect(String(unknown.message)).toMatch(/unknown command "meltdown"/);

    // still running: the next command is answered
    const listed = await send(sim.child, { cmd: 'list', id: 43 });
    expect(listed).toMatchObject({ event: 'ack', id: 43, cmd: 'list' });
    expect(listed.devices).toHaveLength(1);
    expect(sim.child.exitCode).toBeNull();
    await stopChild(sim.child);
  });

  it('keeps its fleet in --data-dir: a second start re-uses enrolled agents and grows the fleet', async () => {
    const dataDir = tempDir('tether-sim-persist-');
    const first = await startSim(['--devices', '5', '--data-dir', dataDir]);
    children.push(first.child);
    await waitFor(async () => (await first.client.get<DeviceListResponse>('/api/v1/devices')).body.counts.online === 5, { timeoutMs: 30_000 });
    await stopChild(first.child);

    const second = await startSim(['--devices', '7', '--data-dir', dataDir]);
    children.push(second.child);
    expect(second.ready.password).not.toBe(first.ready.password);
    await waitFor(async () => (await second.client.get<DeviceListResponse>('/api/v1/devices')).body.counts.online === 7, { timeoutMs: 30_000, what: '7 devices online' });
    // the first five were not enrolled again: seven codes in all, one per device
    const admin = second.client;
    const audit = await admin.get<{ items: AuditEntry[] } | { error: unknown }>('/api/v1/audit?action=agent.enroll&limit=100');
    expect(audit.status).toBe(403); // the trainee is an engineer, not an auditor
    const events = await Promise.all(
      (await admin.get<DeviceListResponse>('/api/v1/devices')).body.items.map(async (d) =>
        (await admin.get<{ items: { type: string }[] }>(`/api/v1/devices/${d.id}/events?limit=1000`)).body.items.filter((e) => e.type === 'agent.enrolled').length),
    );
    expect(events).toEqual([1, 1, 1, 1, 1, 1, 1]);
    await stopChild(second.child);
    expect(existsSync(dataDir)).toBe(true);
  });

  it('refuses bad flags with exit code 2 and the usage', async () => {
    const unknown = await runTs('agent-sim/offline.ts', ['--devcies', '3']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/usage: npm run sim/);
    const bad = await runTs('agent-sim/offline.ts', ['--devices', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--devices must be a whole number/);
  });
});

describe('npm run sim as the customer', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(children.map((c) => stopChild(c)));
  });

  /** Sends a control line and returns the answer; for the plain-words tests below. */
  async function operator(child: ChildProcess, command: Record<string, unknown>): Promise<Record<string, unknown>> {
    return send(child, command);
  }

  it('--consent ask: the operator lists, approves an extension, revokes — all on stdin — and the server follows', async () => {
    const sim = await startSim(['--devices', '3', '--consent', 'ask', '--consent-timeout-seconds', '60']);
    children.push(sim.child);
    expect(sim.ready).toMatchObject({ consent: 'ask' });
    const devices = await waitFor(async () => {
      const res = await sim.client.get<DeviceListResponse>('/api/v1/devices');
      return res.body.counts.online === 3 ? res.body.items : undefined;
    }, { timeoutMs: 30_000, what: 'the fleet online' });
    const device = devices[0]!;

    // plain words work too, and a bad word is an error line, not a crash
    const badSeconds = waitForLine<Record<string, unknown>>(sim.child, (_l, json) => json?.event === 'error');
    sim.child.stdin?.write(`fault ${device.serial} pressure-fault soon\n`);
    expect(String((await badSeconds).json?.message)).toMatch(/SECONDS must be a positive number/);

    const nothing = await operator(sim.child, { cmd: 'consents' });
    expect(nothing).toMatchObject({ event: 'ack', consents: [] });
    const noRequest = await operator(sim.child, { cmd: 'approve', serial: device.serial });
    expect(noRequest.event).toBe('error');
    expect(String(noRequest.message)).toMatch(/no consent request/i);

    const created = await sim.client.post<SessionView>(`/api/v1/devices/${device.id}/sessions`, { scopes: ['diagnose'], reason: 'INC-5 sim operator test', durationMinutes: 20 });
    expect(created.status).toBe(201);
    expect(created.body.state).toMatch(/^(requested|awaiting-consent)$/);
    // the operator sees the question once the agent has it (its next held poll answer)
    const waiting = await waitFor(async () => {
      const answer = await operator(sim.child, { cmd: 'consents', serial: device.serial });
      const consents = answer.consents as { sessionId: string; kind: string; reason: string; remainingSeconds: number }[];
      return consents.length ? consents : undefined;
    }, { timeoutMs: 20_000, what: 'the consent request at the device' });
    expect(waiting[0]).toMatchObject({ sessionId: created.body.id, kind: 'start', reason: 'INC-5 sim operator test' });
    expect(waiting[0]!.remainingSeconds).toBeGreaterThan(30);
    expect(waiting[0]!.remainingSeconds).toBeLessThanOrEqual(60);

    const approved = await operator(sim.child, { cmd: 'approve', serial: device.serial, as: 'Pat Biomed' });
    expect(approved).toMatchObject({ event: 'ack', approve: true, sessionId: created.body.id, operator: 'Pat Biomed' });
    const active = await waitFor(async () => {
      const s = (await sim.client.get<SessionView>(`/api/v1/sessions/${created.body.id}`)).body;
      return s.state === 'active' ? s : undefined;
    }, { timeoutMs: 20_000, what: 'the session active' });
    expect(active.decidedBy).toBe('Pat Biomed');
    const firstExpiry = Date.parse(active.expiresAt!);

    // an extension is a new consent: the operator is asked again, with kind "extend"
    const extend = await sim.client.post<SessionView>(`/api/v1/sessions/${created.body.id}/extend`, { durationMinutes: 15 });
    expect(extend.status).toBe(200);
    expect(extend.body.pendingExtension).toMatchObject({ durationMinutes: 15 });
    await waitFor(async () => {
      const answer = await operator(sim.child, { cmd: 'consents', serial: device.serial });
      return (answer.consents as { kind: string }[]).some((c) => c.kind === 'extend') || undefined;
    }, { timeoutMs: 20_000, what: 'the extension request at the device' });
    expect(await operator(sim.child, { cmd: 'approve', serial: device.serial })).toMatchObject({ event: 'ack', kind: 'extend', approve: true });
    const extended = await waitFor(async () => {
      const s = (await sim.client.get<SessionView>(`/api/v1/sessions/${created.body.id}`)).body;
      return s.pendingExtension === null && Date.parse(s.expiresAt!) > firstExpiry ? s : undefined;
    }, { timeoutMs: 20_000, what: 'the extension applied' });
    expect(Date.parse(extended.expiresAt!) - firstExpiry).toBe(15 * 60_000);

    const sessions = await operator(sim.child, { cmd: 'sessions' });
    expect(sessions.sessions).toMatchObject([{ serial: device.serial, sessionId: created.body.id, controller: { username: sim.ready.username } }]);

    const revoked = await operator(sim.child, { cmd: 'revoke', serial: device.serial, as: 'Pat Biomed' });
    expect(revoked).toMatchObject({ event: 'ack', sessionId: created.body.id });
    const ended = await waitFor(async () => {
      const s = (await sim.client.get<SessionView>(`/api/v1/sessions/${created.body.id}`)).body;
      return s.state === 'ended' ? s : undefined;
    }, { timeoutMs: 20_000, what: 'the session ended' });
    expect(ended.endCause).toBe('CUSTOMER_REVOKED');
    expect(ended.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['requested', 'activated', 'extended', 'ended']));
    const again = await operator(sim.child, { cmd: 'revoke', serial: device.serial });
    expect(again.event).toBe('error');
  });

  it('--consent deny refuses at once, --consent auto allows at once, and a bad mode is refused', async () => {
    const denying = await startSim(['--devices', '1', '--consent', 'deny']);
    children.push(denying.child);
    const [device] = await waitFor(async () => {
      const res = await denying.client.get<DeviceListResponse>('/api/v1/devices');
      return res.body.counts.online === 1 ? res.body.items : undefined;
    }, { timeoutMs: 30_000, what: 'the device online' });
    const denied = await denying.client.post<SessionView>(`/api/v1/devices/${device!.id}/sessions`, { scopes: ['diagnose'], reason: 'INC-6 deny', durationMinutes: 10 });
    expect(denied.status).toBe(201);
    expect(denied.body).toMatchObject({ state: 'denied', endCause: 'DENIED', decidedBy: 'policy' });
    await stopChild(denying.child);

    const allowing = await startSim(['--devices', '1', '--consent', 'auto']);
    children.push(allowing.child);
    const [other] = await waitFor(async () => {
      const res = await allowing.client.get<DeviceListResponse>('/api/v1/devices');
      return res.body.counts.online === 1 ? res.body.items : undefined;
    }, { timeoutMs: 30_000, what: 'the device online' });
    const allowed = await allowing.client.post<SessionView>(`/api/v1/devices/${other!.id}/sessions`, { scopes: ['diagnose', 'files'], reason: 'INC-7 auto', durationMinutes: 10 });
    expect(allowed.body).toMatchObject({ state: 'active', decidedBy: 'policy' });
    await stopChild(allowing.child);

    const bad = await runTs('agent-sim/offline.ts', ['--consent', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--consent must be one of auto, ask, deny/);
  });
});
