import { existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoginResponse } from '../../../src/shared/api/auth.ts';
import type { AuditEntry } from '../../../src/shared/api/audit.ts';
import type { DeviceDetail, DeviceListResponse } from '../../../src/shared/api/fleet.ts';
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
