import net, { type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet } from '../../../agent-sim/fleet.ts';
import { type ComposedConsole } from '../../../src/main/composition.ts';
import { dispatchCall } from '../../../src/main/dispatch.ts';
import type { SessionView } from '#contract/api/sessions';
import type { TunnelView } from '#contract/api/tunnels';
import type { IpcCallName, IpcError, IpcInput, IpcOutput, TunnelItem } from '#contract/ipc';
import type { ScopePolicies } from '#contract/sessions';
import { type SeededDevice, createUser, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import type { ApiClient } from '../../helpers/http.ts';
import { composeTestConsole } from '../../helpers/console.ts';
import { type TestServer, startTestServer, tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

/**
 * The console's tunnel manager against the real server, relay and agents over TLS on
 * loopback, through the same calls the renderer makes: a local port on 127.0.0.1 that
 * reaches the simulated device's service page and service console, refusals, closing
 * (by the user, by the session's end), and a link cut in the middle that comes back by
 * itself — over the 443 fallback, with the relay's own ports closed.
 */

const ALLOW_ALL: ScopePolicies = { diagnose: 'allow', files: 'allow', tunnel: 'allow', deploy: 'allow' };

interface TestConsole extends ComposedConsole {
  terminal: { terminalId: string; data: string; closed: boolean }[];
  call<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>>;
  failure<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcError>;
  until(id: string, check: (item: TunnelItem) => boolean, what: string): Promise<TunnelItem>;
}

/** One console's main side on a test server, signed in as `username`. */
async function startConsole(home: string, serverUrl: string, ca: string, username: string, password: string): Promise<TestConsole> {
  const composed = composeTestConsole({
    home,
    connection: { liveBackoff: { baseMs: 100, maxMs: 500 } },
    tunnels: { redial: { baseMs: 100, maxMs: 500 }, openPollMs: 200 },
  });
  const terminal: TestConsole['terminal'] = [];
  composed.events.attach((event, payload) => {
    if (event === 'tunnels.terminal.data') terminal.push(payload as TestConsole['terminal'][number]);
  });
  const call = async <K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>> => {
    const result = await dispatchCall(composed.handlers, name, input);
    if (!result.ok) throw Object.assign(new Error(`${name}: ${result.error.code} ${result.error.message}`), result.error);
    return result.output as IpcOutput<K>;
  };
  const profile = await call('profiles.save', { name: 'Test server', url: serverUrl, caPem: ca, proxy: null });
  await call('session.signIn', { profileId: profile.id, username, password });
  return {
    ...composed,
    terminal,
    call,
    async failure(name, input) {
      const result = await dispatchCall(composed.handlers, name, input);
      if (result.ok) throw new Error(`${name} succeeded: ${JSON.stringify(result.output)}`);
      return result.error;
    },
    until: (id, check, what) =>
      waitFor(
        () => {
          const found = composed.tunnels.list().find((i) => i.id === id);
          if (found?.link === 'closed' && !check(found)) throw new Error(`${what}: the tunnel closed (${found.endCause ?? 'no end cause'}; ${found.error?.code ?? ''} ${found.error?.message ?? ''})`);
          return found && check(found) ? found : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 25, what },
      ),
  };
}

/** A GET through the tunnel's local port (a fresh TCP connection each time, as a browser may). */
async function fetchLocal(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } });
  return { status: res.status, text: await res.text() };
}

/** Whether a TCP connection to host:port is accepted. */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A plain TCP client: what it has read so far, and a way to wait for more. */
function tcpClient(port: number): { socket: net.Socket; text: () => string; until: (pattern: RegExp) => Promise<string>; closed: Promise<void> } {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setEncoding('utf8');
  let text = '';
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    text: () => text,
    until: (pattern) => waitFor(() => (pattern.test(text) ? text : undefined), { timeoutMs: 10_000, intervalMs: 20, what: `${pattern} from the device` }),
    closed,
  };
}

/**
 * A TCP hop in front of the server, standing for the network between console and server:
 * `cut()` drops every connection through it and refuses new ones until `restore()`.
 */
async function startCuttableHop(targetUrl: string): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const target = new URL(targetUrl);
  const sockets = new Set<net.Socket>();
  let down = false;
  const server = net.createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A device online with an active session with the given scopes, for `engineer`. */
async function activeSession(engineer: ApiClient, device: SeededDevice, scopes: string[]): Promise<SessionView> {
  const res = await engineer.post<SessionView>(`/api/v1/devices/${device.id}/sessions`, { scopes, reason: 'INC-9001 service page check', durationMinutes: 30 });
  if (res.status !== 201 || res.body.state !== 'active') throw new Error(`session: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function online(ts: TestServer, device: SeededDevice): Promise<void> {
  await waitFor(async () => (await ts.adminClient.get<{ status: string }>(`/api/v1/devices/${device.id}`)).body.status === 'online', { timeoutMs: 30_000, what: `${device.serial} online` });
}

describe('the console tunnel manager against the real relay and agents (direct ports)', () => {
  let ts: TestServer;
  let fleet: Fleet;
  let injector: SeededDevice;
  let server: SeededDevice;
  let engineer: { client: ApiClient; password: string };
  let root: string;
  let app: TestConsole;
  let session: SessionView;
  let radSession: SessionView;

  beforeAll(async () => {
    // a device that never joins is given up on soon (the last test waits for it)
    ts = await startTestServer({ pollWindowMs: 2000, tunnels: { setupTimeoutMs: 3000 } });
    const seeded = await seedCustomer(ts, 'Tunnel Clinic', [
      { serial: 'SFX-CT00001', modelId: 'stellant-flex' },
      { serial: 'RAD-CT00001', modelId: 'radimetrics' },
    ]);
    [injector, server] = [seeded.devices[0]!, seeded.devices[1]!];
    await ts.adminClient.put(`/api/v1/customers/${seeded.customer.id}/consent-policy`, { policies: ALLOW_ALL });
    engineer = await createUser(ts, 'tunnel-eng', 'engineer', [seeded.customer.id]);
    root = tempDir('tether-console-tunnels-');
    fleet = await startFleet(ts, [injector, server], { dataDir: join(root, 'agents'), tickMs: 500 });
    await online(ts, injector);
    await online(ts, server);
    session = await activeSession(engineer.client, injector, ['tunnel']);
    app = await startConsole(join(root, 'home'), ts.url, ts.ca, 'tunnel-eng', engineer.password);
  }, 60_000);

  afterAll(async () => {
    await app?.service.shutdown();
    await fleet?.stopAll({ goodbye: false });
    await ts?.destroy();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('opens a tunnel to the service page on 127.0.0.1 only; the page and its live status come through', async () => {
    const opened = await app.call('tunnels.open', { deviceId: injector.id, sessionId: session.id, targetId: 'service-web' });
    expect(opened).toMatchObject({ deviceSerial: injector.serial, targetId: 'service-web', targetKind: 'http', state: 'open', link: 'connected', consolePath: 'direct', error: null });
    const port = opened.localPort!;
    expect(port).toBeGreaterThan(0);

    const page = await fetchLocal(port, '/');
    expect(page.status).toBe(200);
    expect(page.text).toContain(injector.serial);
    expect(page.text).toContain('MEDRAD Stellant FLEX');
    const status = JSON.parse((await fetchLocal(port, '/status.json')).text) as { serial: string; items: { key: string }[] };
    expect(status.serial).toBe(injector.serial);
    expect(status.items.map((i) => i.key)).toContain('syringeA.volume');
    expect((await fetchLocal(port, '/no-such-page')).status).toBe(404);

    // the list counts what crossed the local port, and each request was its own connection
    const counted = await app.until(opened.id, (i) => i.totalConnections >= 3 && i.activeConnections === 0, 'the connections counted');
    expect(counted.bytesFromDevice).toBeGreaterThan(page.text.length);
    expect(counted.bytesToDevice).toBeGreaterThan(0);

    // nothing listens for it on any other interface of this machine
    const others = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && a.family === 'IPv4');
    for (const address of others) expect(await connects(address!.address, port)).toBe(false);
  });

  it('carries the service console as a terminal: a line typed, the device answers', async () => {
    const opened = await app.call('tunnels.open', { deviceId: injector.id, sessionId: session.id, targetId: 'service-console' });
    expect(opened.targetKind).toBe('console');
    const { terminalId } = await app.call('tunnels.terminal.open', { id: opened.id });
    const output = () => app.terminal.filter((e) => e.terminalId === terminalId).map((e) => e.data).join('');
    await waitFor(() => output().includes(`${injector.serial}> `), { timeoutMs: 10_000, what: 'the prompt' });
    await app.call('tunnels.terminal.write', { terminalId, data: 'status\r\n' });
    await waitFor(() => /state {5}\S+/.test(output()), { timeoutMs: 10_000, what: 'the status answer' });
    expect(output()).toContain(`serial    ${injector.serial}`);
    await app.call('tunnels.terminal.write', { terminalId, data: 'exit\r\n' });
    await waitFor(() => app.terminal.some((e) => e.terminalId === terminalId && e.closed), { timeoutMs: 10_000, what: 'the terminal to end' });
    expect((await app.failure('tunnels.terminal.write', { terminalId, data: 'help\r\n' })).code).toBe('NOT_FOUND');
    // a terminal is for service consoles only
    const web = app.tunnels.list().find((i) => i.targetId === 'service-web' && i.link === 'connected')!;
    expect((await app.failure('tunnels.terminal.open', { id: web.id })).code).toBe('VALIDATION_FAILED');
  });

  it('refuses a target the model does not list, and opens nothing', async () => {
    const before = app.tunnels.list().length;
    const refused = await app.failure('tunnels.open', { deviceId: injector.id, sessionId: session.id, targetId: 'vnc' });
    expect(refused.code).toBe('TUNNEL_TARGET_NOT_ALLOWED');
    expect(app.tunnels.list()).toHaveLength(before);
  });

  it('says the device could not reach a service that does not run (Radimetrics VNC in the simulator)', async () => {
    radSession = await activeSession(engineer.client, server, ['tunnel']);
    const opened = await app.call('tunnels.open', { deviceId: server.id, sessionId: radSession.id, targetId: 'vnc' });
    const client = tcpClient(opened.localPort!);
    await client.closed;
    expect(client.text()).toBe('');
    const told = await app.until(opened.id, (i) => i.error?.code === 'TUNNEL_UNREACHABLE' || i.endCause === 'TARGET_UNREACHABLE', 'the refusal shown');
    expect(told.error?.code ?? told.endCause).toMatch(/UNREACHABLE/);
  });

  it('closes a tunnel: the server records it, the local port stops answering, open connections end', async () => {
    const opened = await app.call('tunnels.open', { deviceId: injector.id, sessionId: session.id, targetId: 'service-console' });
    const port = opened.localPort!;
    const client = tcpClient(port);
    await client.until(/> $/);
    const closed = await app.call('tunnels.close', { id: opened.id });
    expect(closed).toMatchObject({ link: 'closed', state: 'closed', endCause: 'USER_CLOSED', localPort: null });
    await client.closed;
    expect(await connects('127.0.0.1', port)).toBe(false);
    const row = await engineer.client.get<TunnelView>(`/api/v1/tunnels/${opened.id}`);
    expect(row.body).toMatchObject({ state: 'closed', endCause: 'USER_CLOSED' });
    expect((await app.failure('tunnels.close', { id: 'no-such-tunnel' })).code).toBe('NOT_FOUND');
  });

  it('ends every tunnel of a session when the session ends, and says why', async () => {
    const web = await app.call('tunnels.open', { deviceId: injector.id, sessionId: session.id, targetId: 'service-web' });
    const client = tcpClient(web.localPort!);
    client.socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await client.until(/<\/html>/);
    const ended = await engineer.client.post(`/api/v1/sessions/${session.id}/end`, {});
    expect(ended.status).toBe(200);
    const closed = await app.until(web.id, (i) => i.link === 'closed', 'the tunnel closed by the session end');
    expect(closed.endCause).toBe('SESSION_ENDED');
    await client.closed;
    expect(await connects('127.0.0.1', web.localPort!)).toBe(false);
    // every other tunnel of that session closed with it
    expect(app.tunnels.list().filter((i) => i.sessionId === session.id && i.link !== 'closed')).toEqual([]);
  });

  it('closes its tunnels on the server when the console quits', async () => {
    const second = await startConsole(join(root, 'home-quit'), ts.url, ts.ca, 'tunnel-eng', engineer.password);
    const opened = await second.call('tunnels.open', { deviceId: server.id, sessionId: radSession.id, targetId: 'service-web' });
    await second.service.shutdown();
    expect(await connects('127.0.0.1', opened.localPort!)).toBe(false);
    const row = await engineer.client.get<TunnelView>(`/api/v1/tunnels/${opened.id}`);
    expect(row.body).toMatchObject({ state: 'closed', endCause: 'USER_CLOSED' });
  });

  it('gives up with a clear reason when the device never joins, and keeps nothing of the attempt', async () => {
    await fleet.get(server.serial).agent.stop({ goodbye: false });
    const before = app.tunnels.list().length;
    const refused = await app.failure('tunnels.open', { deviceId: server.id, sessionId: radSession.id, targetId: 'service-web' });
    expect(refused).toMatchObject({ code: 'TUNNEL_NOT_OPEN', message: 'it closed before it could be used: the device did not join in time' });
    expect(app.tunnels.list()).toHaveLength(before);
  });
});

describe('the console tunnel manager over the 443 fallback, with a link cut', () => {
  let ts: TestServer;
  let fleet: Fleet;
  let device: SeededDevice;
  let root: string;
  let hop: Awaited<ReturnType<typeof startCuttableHop>>;
  let app: TestConsole;
  let session: SessionView;

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: 2000, tunnels: { direct: false } });
    const seeded = await seedCustomer(ts, 'Blocked Ports Clinic', [{ serial: 'ITG-CT00001', modelId: 'intego' }]);
    device = seeded.devices[0]!;
    await ts.adminClient.put(`/api/v1/customers/${seeded.customer.id}/consent-policy`, { policies: ALLOW_ALL });
    const engineer = await createUser(ts, 'fallback-eng', 'engineer', [seeded.customer.id]);
    root = tempDir('tether-console-tunnels-fallback-');
    fleet = await startFleet(ts, [device], { dataDir: join(root, 'agents'), tickMs: 500 });
    await online(ts, device);
    session = await activeSession(engineer.client, device, ['tunnel']);
    hop = await startCuttableHop(ts.url);
    app = await startConsole(join(root, 'home'), hop.url, ts.ca, 'fallback-eng', engineer.password);
  }, 60_000);

  afterAll(async () => {
    await app?.service.shutdown();
    await hop?.close();
    await fleet?.stopAll({ goodbye: false });
    await ts?.destroy();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('uses the WebSocket on the API port when 17002 is closed, and says so', async () => {
    const opened = await app.call('tunnels.open', { deviceId: device.id, sessionId: session.id, targetId: 'service-web' });
    expect(opened).toMatchObject({ consolePath: 'fallback', link: 'connected', state: 'open' });
    await app.until(opened.id, (i) => i.agentPath === 'fallback', 'the device leg on the fallback too');
    expect((await fetchLocal(opened.localPort!, '/')).text).toContain(device.serial);
  });

  it('dials again with a fresh ticket after the link is cut, on the same local port', async () => {
    const item = app.tunnels.list().find((i) => i.link === 'connected')!;
    const port = item.localPort!;
    hop.cut();
    await app.until(item.id, (i) => i.link === 'reconnecting', 'the link noticed down');
    hop.restore();
    const back = await app.until(item.id, (i) => i.link === 'connected', 'the link back');
    expect(back).toMatchObject({ localPort: port, state: 'open', error: null });
    expect((await fetchLocal(port, '/status.json')).text).toContain(device.serial);
  });
});
