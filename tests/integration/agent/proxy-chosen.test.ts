import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../../agent-sim/agent/agent.ts';
import { type AgentConfigInput, parseAgentConfig } from '../../../agent-sim/agent/config.ts';
import { AgentTransport } from '../../../agent-sim/agent/transport.ts';
import { createSimulatedDevice } from '../../../agent-sim/devices/index.ts';
import type { DeviceDetail } from '#contract/api/fleet';
import type { TetherError } from '#contract/errors';
import { createCsr } from '#node-lib/x509';
import { type SeededDevice, seedCustomer } from '../../helpers/admin.ts';
import { type ConnectProxy, PROXY_USER, startConnectProxy } from '../../helpers/connect-proxy.ts';
import { testAgentSettings } from '../../helpers/fleet.ts';
import { type TestServer, startTestServer, tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

/**
 * The agent's proxy in the console's shape, chosen per connection: by a PAC script served
 * on loopback (evaluated as the console evaluates it), or by the device's environment
 * (`system`: HTTPS_PROXY / NO_PROXY). Real server over TLS, real CONNECT proxies.
 */

let ts: TestServer;
let dir: string;
let devices: SeededDevice[];
let open: ConnectProxy;
let guarded: ConnectProxy;
let pacServer: http.Server;
let pacBase: string;
/** PAC scripts by path; set per test. */
const pacScripts = new Map<string, string>();

beforeAll(async () => {
  ts = await startTestServer({ pollWindowMs: 2000 });
  dir = tempDir('tether-agent-chosen-proxy-');
  devices = (await seedCustomer(ts, 'PAC Clinic', Array.from({ length: 6 }, (_, i) => ({ serial: `PAC-${i + 1}`, modelId: 'intego' as const })))).devices;
  open = await startConnectProxy('open');
  guarded = await startConnectProxy('demand-auth');
  pacServer = http.createServer((req, res) => {
    const script = pacScripts.get(req.url ?? '');
    res.writeHead(script ? 200 : 404, { 'content-type': 'application/x-ns-proxy-autoconfig' });
    res.end(script ?? '');
  });
  await new Promise<void>((resolve) => pacServer.listen(0, '127.0.0.1', resolve));
  pacBase = `http://127.0.0.1:${(pacServer.address() as AddressInfo).port}`;
  const serverPort = new URL(ts.url).port;
  // the server through the proxy; anything else direct
  const through = (proxy: ConnectProxy) => `function FindProxyForURL(url, host) {
    if (url.indexOf(":${serverPort}/") !== -1) return "PROXY ${new URL(proxy.url).host}; DIRECT";
    return "DIRECT";
  }`;
  pacScripts.set('/open.pac', through(open));
  pacScripts.set('/guarded.pac', through(guarded));
  pacScripts.set('/direct.pac', 'function FindProxyForURL(url, host) { return "DIRECT"; }');
  pacScripts.set('/loops.pac', 'function FindProxyForURL(url, host) { while (true) {} }');
});

afterEach(() => {
  open.mode = 'open';
});

afterAll(async () => {
  await new Promise<void>((resolve) => pacServer?.close(() => resolve()));
  await Promise.all([open?.close(), guarded?.close()]);
  await ts?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function device(index: number): SeededDevice {
  const d = devices[index];
  if (!d) throw new Error(`no device ${index}`);
  return d;
}

function config(d: SeededDevice, proxy: AgentConfigInput['proxy'] | Record<string, unknown>) {
  return parseAgentConfig({ ...testAgentSettings(ts), dataDir: join(dir, d.serial), proxy });
}

async function deviceDetail(id: string): Promise<DeviceDetail> {
  const res = await ts.adminClient.get<DeviceDetail>(`/api/v1/devices/${id}`);
  if (res.status !== 200) throw new Error(`device ${id}: ${res.status}`);
  return res.body;
}

describe('agent proxy chosen by a PAC script', () => {
  it('enrolls and polls through the CONNECT proxy the PAC script picks; TLS stays end to end', async () => {
    const d = device(0);
    const cfg = config(d, { mode: 'pac', pacUrl: `${pacBase}/open.pac` });
    const before = open.targets.length;
    const simulated = createSimulatedDevice({ serial: d.serial, modelId: d.modelId, tickMs: 200 });
    const creds = await Agent.enroll(cfg, simulated, d.enrollmentCode);
    expect(creds.deviceId).toBe(d.id);
    const afterEnroll = open.targets.length;
    expect(open.targets.slice(before)).toContain(new URL(ts.url).host);

    const agent = new Agent(cfg, simulated, creds, { logger: pino({ level: 'silent' }) });
    const errors: TetherError[] = [];
    agent.on('connection-error', (err) => errors.push(err));
    simulated.start();
    agent.start();
    try {
      await waitFor(async () => ((await deviceDetail(d.id)).status === 'online' ? true : undefined), { timeoutMs: 20_000, what: 'device online through the PAC-chosen proxy' });
      // the poll went through the proxy too, and only to the server
      expect(open.targets.length).toBeGreaterThan(afterEnroll);
      expect(new Set(open.targets.slice(before))).toEqual(new Set([new URL(ts.url).host]));
      expect(errors).toEqual([]);
    } finally {
      simulated.stop();
      await agent.stop({ goodbye: true });
    }
  });

  it('goes direct when the PAC script says DIRECT: the proxy sees no CONNECT', async () => {
    const d = device(1);
    // refusing, so a request that did go through it would fail
    open.mode = 'refuse';
    const before = open.targets.length;
    const creds = await Agent.enroll(config(d, { mode: 'pac', pacUrl: `${pacBase}/direct.pac` }), createSimulatedDevice({ serial: d.serial, modelId: d.modelId }), d.enrollmentCode);
    expect(creds.deviceId).toBe(d.id);
    expect(open.targets.length).toBe(before);
  });

  it('names the PAC-chosen proxy that wants credentials, then enrolls with the sign-in kept for it', async () => {
    const d = device(2);
    const simulated = createSimulatedDevice({ serial: d.serial, modelId: d.modelId });
    const hostPort = new URL(guarded.url).host;
    const asked = Agent.enroll(config(d, { mode: 'pac', pacUrl: `${pacBase}/guarded.pac` }), simulated, d.enrollmentCode);
    await expect(asked).rejects.toMatchObject({ code: 'PROXY_AUTH_REQUIRED' });
    await expect(asked).rejects.toThrow(`the proxy ${hostPort} (chosen by the PAC script) requires (other) credentials (407) — add a sign-in for ${hostPort} to the agent's proxy.signIns`);

    const signIns = [{ proxy: hostPort, username: PROXY_USER.username, password: PROXY_USER.password }];
    const before = guarded.targets.length;
    const creds = await Agent.enroll(config(d, { mode: 'pac', pacUrl: `${pacBase}/guarded.pac`, signIns }), simulated, d.enrollmentCode);
    expect(creds.deviceId).toBe(d.id);
    expect(guarded.targets.slice(before)).toContain(new URL(ts.url).host);
  });

  it('refuses a PAC script that never answers with CONFIG_INVALID instead of hanging, and the code is not spent', async () => {
    const d = device(3);
    const simulated = createSimulatedDevice({ serial: d.serial, modelId: d.modelId });
    const stuck = Agent.enroll(config(d, { mode: 'pac', pacUrl: `${pacBase}/loops.pac` }), simulated, d.enrollmentCode);
    await expect(stuck).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(stuck).rejects.toThrow(/did not finish for .* within 1000 ms/);
    expect((await Agent.enroll(config(d, { mode: 'none' }), simulated, d.enrollmentCode)).deviceId).toBe(d.id);
  });
});

describe('agent proxy from the device environment (system)', () => {
  async function enrollThrough(transport: AgentTransport, d: SeededDevice): Promise<unknown> {
    const body = { enrollmentCode: d.enrollmentCode, csrPem: (await createCsr(d.serial)).csrPem, agent: { version: '1.0.0', bootId: 'system-proxy-test' }, softwareVersion: '1.0' };
    try {
      return await transport.api.call('enroll', {}, body, { channel: 'report', timeoutMs: 10_000 });
    } finally {
      transport.close();
    }
  }

  it('goes straight to a server NO_PROXY names: the proxy sees no CONNECT', async () => {
    const d = device(4);
    const before = guarded.targets.length;
    const bypassing = new AgentTransport({ serverUrl: ts.url, serverCaPem: ts.ca, proxy: { mode: 'system' }, env: { HTTPS_PROXY: guarded.url, NO_PROXY: '127.0.0.1' } });
    await expect(enrollThrough(bypassing, d)).resolves.toMatchObject({ deviceId: d.id });
    expect(guarded.targets.length).toBe(before);
  });

  it('goes through HTTPS_PROXY, naming it on 407, and with the sign-in kept for it', async () => {
    const d = device(5);
    const hostPort = new URL(guarded.url).host;
    const env = { HTTPS_PROXY: guarded.url };
    const before = guarded.targets.length;
    const refused = enrollThrough(new AgentTransport({ serverUrl: ts.url, serverCaPem: ts.ca, proxy: { mode: 'system' }, env }), d);
    await expect(refused).rejects.toMatchObject({ code: 'PROXY_AUTH_REQUIRED' });
    await expect(refused).rejects.toThrow(`the proxy ${hostPort} (chosen by the HTTPS_PROXY environment variable) requires (other) credentials (407)`);
    const signIns = [{ proxy: hostPort, username: PROXY_USER.username, password: PROXY_USER.password }];
    const signedIn = new AgentTransport({ serverUrl: ts.url, serverCaPem: ts.ca, proxy: { mode: 'system', signIns }, env });
    await expect(enrollThrough(signedIn, d)).resolves.toMatchObject({ deviceId: d.id });
    expect(guarded.targets.slice(before)).toEqual([new URL(ts.url).host, new URL(ts.url).host]);
  });
});
