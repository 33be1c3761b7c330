import { afterAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { composeConsole } from '../../../src/main/composition.ts';
import type { ConsoleService } from '../../../src/main/services/console-service.ts';
import { type LaunchedProcess, NodeProcessLauncher, type ProcessLauncher } from '../../../src/main/services/process-launcher.ts';
import { ServerConnection } from '../../../src/main/services/server-connection.ts';
import { type SimulatorEndpoint, SimulatorSupervisor } from '../../../src/main/services/simulator.ts';
import { MemoryVault } from '../../../src/main/services/vault.ts';
import { TetherError } from '#contract/errors';
import type { SimulatorStatus } from '#contract/ipc';
import { REPO_ROOT } from '../../helpers/processes.ts';
import { tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

const SIMULATOR = join(REPO_ROOT, 'agent-sim/offline.ts');

/** The real Node launcher, remembering each process it started (to check it really ended). */
class RecordingLauncher implements ProcessLauncher {
  readonly launched: LaunchedProcess[] = [];
  private readonly inner: NodeProcessLauncher;
  constructor(script: string) {
    this.inner = new NodeProcessLauncher(script);
  }
  launch(args: readonly string[]): LaunchedProcess {
    const child = this.inner.launch(args);
    this.launched.push(child);
    return child;
  }
}

function isRunning(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The TetherError a promise rejects with (fails the test when it resolves or throws something else). */
async function failure(promise: Promise<unknown>): Promise<TetherError> {
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (err: unknown) => ({ rejected: err }),
  );
  if (!('rejected' in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.resolved)}`);
  expect(outcome.rejected).toBeInstanceOf(TetherError);
  return outcome.rejected as TetherError;
}

const dirs: string[] = [];
const supervisors: SimulatorSupervisor[] = [];
const connections: ServerConnection[] = [];
const services: ConsoleService[] = [];

afterAll(async () => {
  for (const c of connections) c.close();
  await Promise.all([...supervisors.map((s) => s.stop()), ...services.map((s) => s.shutdown())]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function workDir(prefix: string): string {
  const dir = tempDir(prefix);
  dirs.push(dir);
  return dir;
}

describe('SimulatorSupervisor with the real simulator process', () => {
  const launcher = new RecordingLauncher(SIMULATOR);
  const statuses: SimulatorStatus[] = [];
  const supervisor = new SimulatorSupervisor(launcher, { dataDir: join(workDir('tether-sim-supervisor-'), 'simulator'), onStatus: (s) => statuses.push(s) });
  supervisors.push(supervisor);
  let endpoint: SimulatorEndpoint;
  let connection: ServerConnection;

  it('starts the simulator, reporting starting then ready, with credentials that sign in', async () => {
    expect(supervisor.status()).toEqual({ phase: 'idle', devices: null, message: null });
    endpoint = await supervisor.ensureRunning(5);
    expect(statuses.map((s) => s.phase)).toEqual(['starting', 'ready']);
    expect(statuses[1]).toMatchObject({ phase: 'ready', devices: 5 });
    expect(supervisor.status().phase).toBe('ready');
    expect(endpoint.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoint.caPem).toContain('-----BEGIN CERTIFICATE-----');
    expect(endpoint.devices).toBe(5);

    connection = new ServerConnection({ url: endpoint.url, caPem: endpoint.caPem });
    connections.push(connection);
    const login = await connection.signIn(endpoint.username, endpoint.password);
    expect(login.user.username).toBe(endpoint.username);
  });

  it('returns the running simulator for the same size without starting another', async () => {
    const again = await supervisor.ensureRunning(5);
    expect(again).toBe(endpoint);
    expect(launcher.launched).toHaveLength(1);
    expect(statuses.map((s) => s.phase)).toEqual(['starting', 'ready']);
  });

  it('injects a pressure fault that raises PRESSURE_LIMIT on that injector, and rejects an unknown fault', async () => {
    const list = await connection.api.call('devices.list', {}, { limit: 100 });
    expect(list.total).toBe(5);
    const injector = list.items.find((d) => d.modelId === 'stellant-flex');
    if (!injector) throw new Error('no stellant-flex in the simulated fleet');
    await waitFor(async () => (await connection.api.call('devices.get', { deviceId: injector.id })).status === 'online', { timeoutMs: 30_000, what: 'injector online' });

    await supervisor.injectFault(injector.serial, 'pressure-fault');
    const alarm = await waitFor(async () => {
      const detail = await connection.api.call('devices.get', { deviceId: injector.id });
      return detail.alarms.find((a) => a.code === 'PRESSURE_LIMIT');
    }, { timeoutMs: 30_000, what: 'PRESSURE_LIMIT alarm' });
    expect(alarm.state).toBe('active');

    const bogus = await failure(supervisor.injectFault(injector.serial, 'bogus'));
    expect(bogus.message).toMatch(/unknown fault/);
    // the control channel still answers in order after a refusal
    await supervisor.clearFaults(injector.serial);
  });

  it('gives each of two concurrent fault commands its own outcome, even when the simulator answers them out of order', async () => {
    const list = await connection.api.call('devices.list', {}, { limit: 100 });
    const [flapped, other] = list.items;
    if (!flapped || !other) throw new Error('too few simulated devices');
    // A busy simulator reads both lines at once (held here with SIGSTOP). A network flap
    // stops the agent before it answers; an unknown fault is refused at once, so the
    // simulator answers the second command first.
    const pid = launcher.launched[0]?.pid;
    if (pid === undefined) throw new Error('no simulator pid');
    process.kill(pid, 'SIGSTOP');
    let outcomes: PromiseSettledResult<void>[];
    try {
      const pending = Promise.allSettled([supervisor.injectFault(flapped.serial, 'network-flap'), supervisor.injectFault(other.serial, 'bogus')]);
      await sleep(200);
      process.kill(pid, 'SIGCONT');
      outcomes = await pending;
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
  });

  it('reads what the operator at a device sees, and pairs the simulator\'s own refusal with its command when answered out of order', async () => {
    const list = await connection.api.call('devices.list', {}, { limit: 100 });
    const [, , , flapped, viewed] = list.items;
    if (!flapped || !viewed) throw new Error('too few simulated devices');
    expect(await supervisor.operatorState(viewed.serial)).toEqual({ serial: viewed.serial, consents: [], sessions: [] });

    // the flap is answered once its agent stopped; the unknown device is refused by the simulator at once
    const pid = launcher.launched[0]?.pid;
    if (pid === undefined) throw new Error('no simulator pid');
    process.kill(pid, 'SIGSTOP');
    let outcomes: PromiseSettledResult<void>[];
    try {
      const pending = Promise.allSettled([supervisor.injectFault(flapped.serial, 'network-flap'), supervisor.clearFaults('ZZZ-XX99999')]);
      await sleep(200);
      process.kill(pid, 'SIGCONT');
      outcomes = await pending;
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    const refused = (outcomes[1] as PromiseRejectedResult).reason as TetherError;
    expect(refused).toBeInstanceOf(TetherError);
    expect(refused.message).toMatch(/no simulated device with serial ZZZ-XX99999/);
  });

  it('stops the process (status idle), after which fault injection fails with SIMULATOR_FAILED', async () => {
    const pid = launcher.launched[0]?.pid;
    expect(isRunning(pid)).toBe(true);
    await supervisor.stop();
    expect(supervisor.status()).toEqual({ phase: 'idle', devices: null, message: null });
    expect(statuses.map((s) => s.phase).slice(-2)).toEqual(['stopping', 'idle']);
    await waitFor(() => !isRunning(pid), { what: 'simulator process gone' });

    const err = await failure(supervisor.injectFault('STL-US00001', 'pressure-fault'));
    expect(err.code).toBe('SIMULATOR_FAILED');
    const unreachable = new ServerConnection({ url: endpoint.url, caPem: endpoint.caPem }, { requestTimeoutMs: 3000 });
    connections.push(unreachable);
    expect((await failure(unreachable.signIn(endpoint.username, endpoint.password))).code).toBe('SERVER_UNREACHABLE');
  });

  it('rejects with SIMULATOR_FAILED naming the exit when the process dies before it is ready', async () => {
    const dir = workDir('tether-sim-broken-');
    const script = join(dir, 'exits-at-once.ts');
    writeFileSync(script, "process.stderr.write('cannot open the fleet database\\n');\nprocess.exit(3);\n");
    const seen: SimulatorStatus[] = [];
    const broken = new SimulatorSupervisor(new NodeProcessLauncher(script), { dataDir: join(dir, 'simulator'), onStatus: (s) => seen.push(s) });
    supervisors.push(broken);
    const err = await failure(broken.ensureRunning(3));
    expect(err.code).toBe('SIMULATOR_FAILED');
    expect(err.message).toMatch(/exited \(3\)/);
    expect(err.message).toContain('cannot open the fleet database');
    expect(seen.map((s) => s.phase)).toEqual(['starting', 'failed']);
    expect(broken.status()).toMatchObject({ phase: 'failed', message: err.message });
  });
});

describe('SimulatorSupervisor asked for another size while starting', () => {
  it('answers each caller with a simulator of the size it asked for', async () => {
    const dir = workDir('tether-sim-resize-');
    const launcher = new RecordingLauncher(SIMULATOR);
    const supervisor = new SimulatorSupervisor(launcher, { dataDir: join(dir, 'simulator'), onStatus: () => undefined });
    supervisors.push(supervisor);
    const [two, three] = await Promise.all([supervisor.ensureRunning(2), supervisor.ensureRunning(3)]);
    expect(two.devices).toBe(2);
    expect(three.devices).toBe(3);
    expect(supervisor.status()).toMatchObject({ phase: 'ready', devices: 3 });
  });
});

describe('ConsoleService signing in to the simulator', () => {
  it('starts the simulator on demand and signs in; the fleet has the requested size', async () => {
    const home = workDir('tether-console-sim-');
    const { handlers, service, events } = composeConsole({
      home,
      vault: new MemoryVault(),
      launcher: new NodeProcessLauncher(SIMULATOR),
      appInfo: { version: '0.0.0-test', mode: 'browser', platform: process.platform },
      openExternal: async () => undefined,
    });
    services.push(service);
    const pushed: string[] = [];
    events.attach((event, payload) => pushed.push(event === 'simulator.status' ? `simulator:${(payload as SimulatorStatus).phase}` : event));

    const session = await handlers['session.signInSimulator']({ devices: 5 });
    expect(session).toMatchObject({ signedIn: true, user: { username: 'trainee' }, profile: { id: 'offline-simulator', kind: 'simulator' } });
    expect(session.signedIn && session.serverUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await handlers['fleet.devices']({ limit: 100, offset: 0 })).total).toBe(5);
    expect(await handlers['simulator.status']({})).toMatchObject({ phase: 'ready', devices: 5 });
    // the simulator's own status, in order (other services announce themselves too, e.g. transfers)
    expect(pushed.filter((e) => e.startsWith('simulator:')).slice(0, 2)).toEqual(['simulator:starting', 'simulator:ready']);
    await waitFor(() => pushed.includes('connection.state'), { what: 'connection.state event' });

    await service.shutdown();
    expect(await handlers['simulator.status']({})).toMatchObject({ phase: 'idle' });
  });
});
