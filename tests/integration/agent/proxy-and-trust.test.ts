import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Agent } from '../../../agent-sim/agent/agent.ts';
import { type AgentConfigInput, parseAgentConfig } from '../../../agent-sim/agent/config.ts';
import type { AgentCredentials } from '../../../agent-sim/agent/credentials.ts';
import { AgentTransport } from '../../../agent-sim/agent/transport.ts';
import { type SimulatedDevice, createSimulatedDevice } from '../../../agent-sim/devices/index.ts';
import { createCertificateAuthority } from '../../../server/pki/certificates.ts';
import type { AuditEntry } from '#contract/api/audit';
import type { DeviceDetail, DeviceEvent } from '#contract/api/fleet';
import type { TetherError } from '#contract/errors';
import { createCsr } from '#node-lib/x509';
import { type SeededDevice, seedCustomer } from '../../helpers/admin.ts';
import { testAgentSettings } from '../../helpers/fleet.ts';
import { type TestServer, startTestServer, tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';
import { type ConnectProxy, startConnectProxy } from '../../helpers/connect-proxy.ts';


/** A running agent and its simulated device, with what it said about its connection. */
interface RunningAgent {
  agent: Agent;
  device: SimulatedDevice;
  errors: TetherError[];
  retryDelays: number[];
  stop(goodbye?: boolean): Promise<void>;
}

function runAgent(config: ReturnType<typeof parseAgentConfig>, seeded: SeededDevice, credentials: AgentCredentials, tickMs = 200): RunningAgent {
  const retryDelays: number[] = [];
  // the agent logs every retry with the delay it chose
  const logSink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = JSON.parse(chunk.toString('utf8')) as { retryInMs?: number };
      if (typeof line.retryInMs === 'number') retryDelays.push(line.retryInMs);
      done();
    },
  });
  const device = createSimulatedDevice({ serial: seeded.serial, modelId: seeded.modelId, tickMs });
  const agent = new Agent(config, device, credentials, { logger: pino({ level: 'warn' }, logSink) });
  const errors: TetherError[] = [];
  agent.on('connection-error', (err) => errors.push(err));
  device.start();
  agent.start();
  return {
    agent,
    device,
    errors,
    retryDelays,
    async stop(goodbye = false) {
      device.stop();
      await agent.stop({ goodbye });
    },
  };
}

async function deviceDetail(ts: TestServer, id: string): Promise<DeviceDetail> {
  const res = await ts.adminClient.get<DeviceDetail>(`/api/v1/devices/${id}`);
  if (res.status !== 200) throw new Error(`device ${id}: ${res.status}`);
  return res.body;
}

/** Waits until the device was heard from after `since` (epoch ms) and shows online. */
function waitOnlineSince(ts: TestServer, id: string, since: number, what: string): Promise<DeviceDetail> {
  return waitFor(async () => {
    const d = await deviceDetail(ts, id);
    return d.status === 'online' && d.lastContactAt !== null && Date.parse(d.lastContactAt) >= since ? d : undefined;
  }, { timeoutMs: 20_000, what });
}

function enrollBody(code: string, csrPem: string) {
  return { enrollmentCode: code, csrPem, agent: { version: '1.0.0', bootId: 'test-boot-0003' }, softwareVersion: '1.0' };
}

describe('agent trust: the pinned CA and the server name', () => {
  let ts: TestServer;
  let dir: string;
  let devices: SeededDevice[];
  const running: RunningAgent[] = [];

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: 2000, hostnames: ['tether.test'] });
    dir = tempDir('tether-agent-trust-');
    devices = (await seedCustomer(ts, 'Trust Clinic', Array.from({ length: 4 }, (_, i) => ({ serial: `TRUST-${i + 1}`, modelId: 'mrxperion' as const })))).devices;
  });
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await ts?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function config(serial: string, extra: Partial<AgentConfigInput> = {}) {
    return parseAgentConfig({ ...testAgentSettings(ts), dataDir: join(dir, serial), ...extra });
  }

  async function enrollDenials(): Promise<AuditEntry[]> {
    return (await ts.adminClient.get<{ items: AuditEntry[] }>('/api/v1/audit?action=agent.enroll&limit=1000')).body.items;
  }

  it('refuses a server whose certificate is not from the pinned CA with CERT_PIN_MISMATCH, before sending anything', async () => {
    const [d] = devices;
    if (!d) throw new Error('no device');
    const rogue = await createCertificateAuthority('Some Other CA');
    const transport = new AgentTransport({ serverUrl: ts.url, serverCaPem: rogue.certPem });
    try {
      await expect(
        transport.api.call('enroll', {}, enrollBody(d.enrollmentCode, (await createCsr(d.serial)).csrPem), { channel: 'report', timeoutMs: 5000 }),
      ).rejects.toMatchObject({ code: 'CERT_PIN_MISMATCH' });
    } finally {
      transport.close();
    }
    const enrolling = Agent.enroll(config(d.serial, { serverCaPem: rogue.certPem }), createSimulatedDevice({ serial: d.serial, modelId: d.modelId }), d.enrollmentCode);
    await expect(enrolling).rejects.toMatchObject({ code: 'CERT_PIN_MISMATCH' });
    // the agent notes the failure in its own audit file
    expect(readFileSync(join(dir, d.serial, 'audit.jsonl'), 'utf8')).toMatch(/"agent\.enroll".*"failed".*pinned CA/);

    // the server never saw the code: no denial, and it still enrolls with the right pin
    expect((await enrollDenials()).filter((e) => e.targetId === d.id)).toEqual([]);
    const creds = await Agent.enroll(config(d.serial), createSimulatedDevice({ serial: d.serial, modelId: d.modelId }), d.enrollmentCode);
    expect(creds.deviceId).toBe(d.id);
  });

  it('a running agent pinned to another CA reports CERT_PIN_MISMATCH, audits it locally and never reaches the server', async () => {
    const d = devices[1];
    if (!d) throw new Error('no device');
    const creds = await Agent.enroll(config(d.serial), createSimulatedDevice({ serial: d.serial, modelId: d.modelId }), d.enrollmentCode);
    const rogue = await createCertificateAuthority('Some Other CA');
    const r = runAgent(config(d.serial, { serverCaPem: rogue.certPem }), d, creds);
    running.push(r);
    await waitFor(() => r.errors.length >= 2, { what: 'repeated connection errors' });
    expect(new Set(r.errors.map((e) => e.code))).toEqual(new Set(['CERT_PIN_MISMATCH']));
    expect(readFileSync(r.agent.audit.path, 'utf8')).toMatch(/"agent\.connection-refused".*"denied".*CERT_PIN_MISMATCH/);
    const detail = await deviceDetail(ts, d.id);
    expect(detail.lastContactAt).toBeNull();
    expect(detail.status).not.toBe('online');
  });

  it('refuses a server name the certificate does not cover with CERT_PIN_MISMATCH', async () => {
    const d = devices[2];
    if (!d) throw new Error('no device');
    const wrongName = config(d.serial, { serverUrl: `https://wrong-name.test:${new URL(ts.url).port}`, hostMap: { 'wrong-name.test': '127.0.0.1' } });
    const enrolling = Agent.enroll(wrongName, createSimulatedDevice({ serial: d.serial, modelId: d.modelId }), d.enrollmentCode);
    await expect(enrolling).rejects.toMatchObject({ code: 'CERT_PIN_MISMATCH' });
    await expect(enrolling).rejects.toThrow(/ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('talks to the server under a name its certificate covers, mapped to loopback', async () => {
    const d = devices[3];
    if (!d) throw new Error('no device');
    const named = config(d.serial, { serverUrl: `https://tether.test:${new URL(ts.url).port}`, hostMap: { 'Tether.Test': '127.0.0.1' } });
    const creds = await Agent.enroll(named, createSimulatedDevice({ serial: d.serial, modelId: d.modelId }), d.enrollmentCode);
    expect(creds.serverUrl).toBe(named.serverUrl);
    const r = runAgent(named, d, creds);
    running.push(r);
    await waitOnlineSince(ts, d.id, 0, 'device online under its name');
    expect(r.errors).toEqual([]);
  });
});

describe('agent behind an HTTP CONNECT proxy', () => {
  let ts: TestServer;
  let proxy: ConnectProxy;
  let dir: string;
  let devices: SeededDevice[];
  const running: RunningAgent[] = [];

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: 2000 });
    proxy = await startConnectProxy('demand-auth');
    dir = tempDir('tether-agent-proxy-');
    devices = (await seedCustomer(ts, 'Proxy Clinic', Array.from({ length: 3 }, (_, i) => ({ serial: `PROXY-${i + 1}`, modelId: 'intego' as const })))).devices;
  });
  afterEach(() => {
    proxy.mode = 'demand-auth';
  });
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await proxy?.close();
    await ts?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function config(serial: string, proxySettings: AgentConfigInput['proxy']) {
    return parseAgentConfig({ ...testAgentSettings(ts), dataDir: join(dir, serial), proxy: proxySettings });
  }

  function device(index: number): SeededDevice {
    const d = devices[index];
    if (!d) throw new Error(`no device ${index}`);
    return d;
  }

  it('enrolls and polls through the proxy with its credentials; TLS stays end to end', async () => {
    const d = device(0);
    const cfg = config(d.serial, { url: proxy.url, username: 'user', password: 'pass' });
    const before = proxy.targets.length;
    const creds = await Agent.enroll(cfg, createSimulatedDevice({ serial: d.serial, modelId: d.modelId }), d.enrollmentCode);
    const afterEnroll = proxy.targets.length;
    expect(afterEnroll).toBeGreaterThan(before);

    const r = runAgent(cfg, d, creds);
    try {
      await waitOnlineSince(ts, d.id, 0, 'device online through the proxy');
      expect(proxy.targets.length).toBeGreaterThan(afterEnroll);
      expect(new Set(proxy.targets)).toEqual(new Set([new URL(ts.url).host]));
      expect(r.errors).toEqual([]);
    } finally {
      // the goodbye goes through the proxy too; afterwards no agent here uses it
      await r.stop(true);
    }
    expect((await deviceDetail(ts, d.id)).status).toBe('offline');
  });

  it('reports PROXY_AUTH_REQUIRED without (or with wrong) proxy credentials, and the code is not spent', async () => {
    const d = device(1);
    const simulated = createSimulatedDevice({ serial: d.serial, modelId: d.modelId });
    const before = proxy.targets.length;
    await expect(Agent.enroll(config(d.serial, { url: proxy.url }), simulated, d.enrollmentCode)).rejects.toMatchObject({ code: 'PROXY_AUTH_REQUIRED' });
    await expect(Agent.enroll(config(d.serial, { url: proxy.url, username: 'user', password: 'nope' }), simulated, d.enrollmentCode)).rejects.toMatchObject({ code: 'PROXY_AUTH_REQUIRED' });
    expect(proxy.targets.length).toBeGreaterThanOrEqual(before + 2);

    const creds = await Agent.enroll(config(d.serial, { url: proxy.url, username: 'user', password: 'pass' }), simulated, d.enrollmentCode);
    expect(creds.deviceId).toBe(d.id);
  });

  it('reports PROXY_REFUSED when the proxy refuses the connection', async () => {
    const d = device(2);
    proxy.mode = 'refuse';
    const before = proxy.targets.length;
    const enrolling = Agent.enroll(config(d.serial, { url: proxy.url, username: 'user', password: 'pass' }), createSimulatedDevice({ serial: d.serial, modelId: d.modelId }), d.enrollmentCode);
    await expect(enrolling).rejects.toMatchObject({ code: 'PROXY_REFUSED' });
    await expect(enrolling).rejects.toThrow(/403/);
    expect(proxy.targets.length).toBe(before + 1);
  });

  it('goes direct for a host listed in noProxy: the proxy sees no CONNECT', async () => {
    const d = device(2);
    // refusing, so a request that did go through it would fail
    proxy.mode = 'refuse';
    const cfg = config(d.serial, { url: proxy.url, noProxy: 'example.invalid, 127.0.0.1' });
    const before = proxy.targets.length;
    const creds = await Agent.enroll(cfg, createSimulatedDevice({ serial: d.serial, modelId: d.modelId }), d.enrollmentCode);
    const r = runAgent(cfg, d, creds);
    running.push(r);
    await waitOnlineSince(ts, d.id, 0, 'device online directly');
    expect(proxy.targets.length).toBe(before);
    expect(r.errors).toEqual([]);
  });
});

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Stands in for the host's name service for one name (as DNS would answer after a server
 * moved); every other name still goes to the system resolver. The agent's transport
 * calls `dns.lookup` for each new connection to a name outside its host map.
 */
function installResolver(name: string, address: () => string, answers: string[]): () => void {
  const dns = createRequire(import.meta.url)('node:dns') as { lookup: (...args: unknown[]) => void };
  const systemLookup = dns.lookup;
  dns.lookup = (hostname: unknown, ...rest: unknown[]) => {
    if (hostname !== name) return systemLookup(hostname, ...rest);
    const callback = rest[rest.length - 1] as LookupCallback;
    const options = (rest.length > 1 ? rest[0] : {}) as LookupOptions | number;
    const current = address();
    answers.push(current);
    process.nextTick(() => {
      if (typeof options === 'object' && options.all) callback(null, [{ address: current, family: 4 }]);
      else callback(null, current, 4);
    });
  };
  syncBuiltinESMExports();
  return () => {
    dns.lookup = systemLookup;
    syncBuiltinESMExports();
  };
}

describe('agent reconnecting after an outage', () => {
  let ts: TestServer;
  let dir: string;
  let port: number;
  let devices: SeededDevice[];
  const running: RunningAgent[] = [];
  const baseOverrides = { pollWindowMs: 2000, hostnames: ['moving.test'] };

  beforeAll(async () => {
    ts = await startTestServer(baseOverrides);
    port = Number(new URL(ts.url).port);
    dir = tempDir('tether-agent-outage-');
    devices = (await seedCustomer(ts, 'Outage Clinic', [
      { serial: 'OUT-BACKOFF', modelId: 'stellant-flex' },
      { serial: 'OUT-QUEUE', modelId: 'stellant-flex' },
      { serial: 'OUT-MOVE', modelId: 'mark7-arterion' },
    ])).devices;
  });
  afterAll(async () => {
    await Promise.all(running.map((r) => r.stop()));
    await ts?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Stops the server; `start` brings it back on the same data dir (same CA, keys, devices). */
  async function restartServer(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<number> {
    const { dataDir, admin } = ts;
    ts = await startTestServer({ ...baseOverrides, port, ...overrides }, { dataDir, admin });
    return Date.now();
  }

  async function enrolledAgent(index: number, extra: Partial<AgentConfigInput>, tickMs?: number): Promise<{ d: SeededDevice; r: RunningAgent }> {
    const d = devices[index];
    if (!d) throw new Error(`no device ${index}`);
    const cfg = parseAgentConfig({ ...testAgentSettings(ts), dataDir: join(dir, d.serial), ...extra });
    const creds = await Agent.enroll(cfg, createSimulatedDevice({ serial: d.serial, modelId: d.modelId }), d.enrollmentCode);
    const r = runAgent(cfg, d, creds, tickMs);
    running.push(r);
    await waitOnlineSince(ts, d.id, 0, `${d.serial} online`);
    return { d, r };
  }

  it('retries while the server is down with jittered delays growing to the cap, and reconnects when it returns', async () => {
    const { d, r } = await enrolledAgent(0, { backoff: { baseMs: 50, maxMs: 400 } });
    r.errors.length = 0;
    r.retryDelays.length = 0;
    await ts.close();

    await waitFor(() => r.retryDelays.length >= 8, { timeoutMs: 15_000, what: 'eight retries' });
    expect(r.errors.length).toBeGreaterThanOrEqual(8);
    expect(new Set(r.errors.map((e) => e.code))).toEqual(new Set(['SERVER_UNREACHABLE']));
    // retry n waits a random time in [0, min(400, 50·2^n)]
    const delays = r.retryDelays.slice(0, 8);
    delays.forEach((delay, n) => {
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(400, 50 * 2 ** n));
    });
    expect(new Set(delays).size).toBeGreaterThan(1);
    // the ceiling really grows: five draws from [0, 400] all at or under the first
    // ceiling (50) would happen about once in 30,000 runs
    expect(Math.max(...delays.slice(3))).toBeGreaterThan(50);

    const back = await restartServer();
    await waitOnlineSince(ts, d.id, back, 'device back online after the outage');
    expect(r.agent.state).toBe('connected');
  });

  it('keeps a bounded queue through an outage and the server records how many reports were dropped', async () => {
    const { d, r } = await enrolledAgent(1, { outboundQueueLimit: 20, backoff: { baseMs: 50, maxMs: 400 } }, 20);
    await ts.close();

    let largestQueue = 0;
    await waitFor(() => {
      largestQueue = Math.max(largestQueue, r.agent.outbound.queued);
      return r.agent.outbound.dropped > 0 && r.retryDelays.length >= 2;
    }, { timeoutMs: 15_000, what: 'the agent to drop reports' });
    // it goes on dropping the oldest, never growing past its bound
    const droppedSoFar = r.agent.outbound.dropped;
    await waitFor(() => {
      largestQueue = Math.max(largestQueue, r.agent.outbound.queued);
      return r.agent.outbound.dropped > droppedSoFar;
    }, { what: 'more reports dropped' });
    expect(largestQueue).toBeLessThanOrEqual(20);

    const back = await restartServer();
    const event = await waitFor(async () => {
      const res = await ts.adminClient.get<{ items: DeviceEvent[] }>(`/api/v1/devices/${d.id}/events?limit=100`);
      return res.body.items.find((e) => e.type === 'agent.reports-dropped');
    }, { timeoutMs: 20_000, what: 'an agent.reports-dropped event' });
    expect(event.severity).toBe('warning');
    expect(Number(event.data?.dropped)).toBeGreaterThan(0);
    await waitOnlineSince(ts, d.id, back, 'device online again');
  });

  it('finds a server that moved to another address when the name resolves anew, without restarting', async () => {
    let address = '127.0.0.1';
    const answers: string[] = [];
    const uninstall = installResolver('moving.test', () => address, answers);
    try {
      const { d, r } = await enrolledAgent(2, { serverUrl: `https://moving.test:${port}`, backoff: { baseMs: 50, maxMs: 400 } });
      expect(answers).toContain('127.0.0.1');
      const bootId = r.agent.bootId;

      await ts.close();
      address = '127.0.0.2';
      const answersBeforeMove = answers.length;
      const moved = await restartServer({ host: '127.0.0.2', hostnames: ['moving.test', '127.0.0.2'] });
      expect(ts.url).toBe(`https://127.0.0.2:${port}`);

      await waitOnlineSince(ts, d.id, moved, 'device online against the moved server');
      expect(answers.slice(answersBeforeMove)).toContain('127.0.0.2');
      expect(r.agent.bootId).toBe(bootId);
      const events = await ts.adminClient.get<{ items: DeviceEvent[] }>(`/api/v1/devices/${d.id}/events?limit=100`);
      expect(events.body.items.some((e) => e.type === 'agent.restarted')).toBe(false);
    } finally {
      uninstall();
    }
  });
});
