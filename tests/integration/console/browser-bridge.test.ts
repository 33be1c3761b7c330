import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { Fleet } from '../../../agent-sim/fleet.ts';
import { composeConsole } from '../../../src/main/composition.ts';
import type { EventHub, IpcHandlers } from '../../../src/main/dispatch.ts';
import type { ConsoleService } from '../../../src/main/services/console-service.ts';
import { NodeProcessLauncher } from '../../../src/main/services/process-launcher.ts';
import { EncryptedFileVault } from '../../../src/main/services/vault.ts';
import { type BrowserBridge, startBrowserBridge } from '../../../src/main/web.ts';
import type { BridgeMessage, IpcError } from '#contract/ipc';
import { type SeededDevice, createUser, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import { REPO_ROOT } from '../../helpers/processes.ts';
import { type TestServer, startTestServer, tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

const INDEX_HTML = '<!doctype html><title>Tether console</title><div id="root"></div>';

/** A plain HTTP GET with the path sent exactly as given (no client-side normalising). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

type ResultMessage = Extract<BridgeMessage, { type: 'result' }>;
type EventMessage = Extract<BridgeMessage, { type: 'event' }>;

/** A browser tab's end of the bridge: calls by id, every event pushed, and how it closed. */
interface BridgeClient {
  socket: WebSocket;
  events: EventMessage[];
  closed: Promise<{ code: number; reason: string }>;
  call(name: string, input?: unknown): Promise<ResultMessage>;
}

const clients: WebSocket[] = [];

function bridgeUrl(bridge: BrowserBridge, token: string, path = '/bridge'): string {
  return `${bridge.origin.replace('http:', 'ws:')}${path}?token=${encodeURIComponent(token)}`;
}

/** The token the page reads from its URL fragment (`#token=…`). */
function tokenOf(bridge: BrowserBridge): string {
  const token = new URLSearchParams(new URL(bridge.url).hash.slice(1)).get('token');
  if (!token) throw new Error(`no token in ${bridge.url}`);
  return token;
}

async function openBridge(url: string, origin: string): Promise<BridgeClient> {
  const socket = new WebSocket(url, { origin });
  clients.push(socket);
  const events: EventMessage[] = [];
  const pending = new Map<number, (message: ResultMessage) => void>();
  let nextId = 1;
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as BridgeMessage;
    if (message.type === 'event') events.push(message);
    else pending.get(message.id)?.(message);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.once('close', (code, reason) => resolve({ code, reason: String(reason) }));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`bridge refused with ${res.statusCode}`)));
  });
  return {
    socket,
    events,
    closed,
    call(name, input = {}) {
      const id = nextId;
      nextId += 1;
      const answer = new Promise<ResultMessage>((resolve) => pending.set(id, resolve));
      socket.send(JSON.stringify({ id, call: name, input }));
      return answer;
    },
  };
}

/** The HTTP status with which the bridge refuses a WebSocket upgrade. */
function refusedUpgrade(url: string, origin?: string): Promise<number> {
  const socket = new WebSocket(url, origin ? { origin } : {});
  clients.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('open', () => reject(new Error('the upgrade was accepted')));
    socket.once('unexpected-response', (req, res) => {
      req.destroy();
      resolve(res.statusCode ?? 0);
    });
    socket.once('error', reject);
  });
}

function output<T>(message: ResultMessage): T {
  if (!message.ok) throw new Error(`call failed: ${JSON.stringify(message.error)}`);
  return message.output as T;
}

function errorOf(message: ResultMessage): IpcError {
  if (message.ok) throw new Error(`call succeeded: ${JSON.stringify(message.output)}`);
  return message.error;
}

describe('browser bridge with a real console service', () => {
  let ts: TestServer;
  let fleet: Fleet | undefined;
  let devices: SeededDevice[];
  let engineer: { id: string; password: string };
  let root: string;
  let home: string;
  let vault: EncryptedFileVault;
  let service: ConsoleService;
  let handlers: IpcHandlers;
  let events: EventHub;
  let bridge: BrowserBridge;
  let port: number;
  const spare: ConsoleService[] = [];

  function compose(withVault: EncryptedFileVault) {
    return composeConsole({
      home,
      vault: withVault,
      launcher: new NodeProcessLauncher(join(REPO_ROOT, 'agent-sim/offline.ts')),
      appInfo: { version: '0.0.0-test', mode: 'browser', platform: process.platform },
      openExternal: async () => undefined,
    });
  }

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: 2000 });
    devices = (await seedCustomer(ts, 'Bridge Clinic', [
      { serial: 'BRIDGE-1', modelId: 'stellant-flex' },
      { serial: 'BRIDGE-2', modelId: 'intego' },
    ])).devices;
    engineer = await createUser(ts, 'bridge-eng', 'engineer', 'all');
    root = tempDir('tether-bridge-');
    fleet = await startFleet(ts, devices, { dataDir: join(root, 'agents') });

    home = join(root, 'home');
    const staticDir = join(root, 'static');
    mkdirSync(home, { recursive: true, mode: 0o700 });
    mkdirSync(staticDir, { recursive: true });
    writeFileSync(join(staticDir, 'index.html'), INDEX_HTML);
    // a file just outside the static root: no path may reach it
    writeFileSync(join(root, 'secret.txt'), 'not for the browser');
    vault = new EncryptedFileVault(home);
    ({ handlers, service, events } = compose(vault));
    bridge = await startBrowserBridge({ handlers, events, staticDir });
    port = Number(new URL(bridge.origin).port);
  });
  afterAll(async () => {
    for (const socket of clients) socket.terminate();
    await bridge?.close();
    await service?.shutdown();
    await Promise.all(spare.map((s) => s.shutdown()));
    await fleet?.stopAll({ goodbye: false });
    await ts?.destroy();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('serves index.html at / with a content security policy that allows only its own scripts', async () => {
    expect(bridge.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await get(port, '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe(INDEX_HTML);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('answers 404 to every path that tries to climb out of the static root, encoded or not', async () => {
    const escapes = [
      '/../../etc/passwd',
      '/../secret.txt',
      '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/..%2f..%2fetc%2fpasswd',
      '/%2e%2e%2fsecret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/..%5csecret.txt',
      '/%252e%252e%252fsecret.txt',
      // the console's home (vault key, settings) is a sibling of the static root here
      '/%2e%2e/home/vault.key',
      '/..%2fhome%2fsettings.json',
    ];
    for (const path of escapes) {
      const res = await get(port, path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toContain('not for the browser');
      expect(res.body).not.toContain('root:');
    }
  });

  it('answers 421 to a request whose Host is not the loopback address it listens on', async () => {
    expect((await get(port, '/', { host: 'evil.example' })).status).toBe(421);
    expect((await get(port, '/', { host: `localhost:${port}` })).status).toBe(421);
    expect((await get(port, '/', { host: `127.0.0.1:${port}` })).status).toBe(200);
  });

  it('carries calls over the WebSocket with the launch token and the page origin', async () => {
    const client = await openBridge(bridgeUrl(bridge, tokenOf(bridge)), bridge.origin);
    const info = output<{ mode: string; version: string }>(await client.call('app.info'));
    expect(info).toMatchObject({ mode: 'browser', version: '0.0.0-test' });
  });

  it('refuses the upgrade (403) with a wrong token, a foreign origin, no origin, or another path', async () => {
    const token = tokenOf(bridge);
    expect(await refusedUpgrade(bridgeUrl(bridge, `${token.slice(0, -1)}x`), bridge.origin)).toBe(403);
    expect(await refusedUpgrade(bridgeUrl(bridge, ''), bridge.origin)).toBe(403);
    expect(await refusedUpgrade(bridgeUrl(bridge, token), 'http://evil.example')).toBe(403);
    expect(await refusedUpgrade(bridgeUrl(bridge, token), `http://localhost:${port}`)).toBe(403);
    expect(await refusedUpgrade(bridgeUrl(bridge, token))).toBe(403);
    expect(await refusedUpgrade(bridgeUrl(bridge, token, '/other'), bridge.origin)).toBe(403);
  });

  it('answers an unknown call with UNKNOWN_CHANNEL and bad input with VALIDATION_FAILED naming the field', async () => {
    const client = await openBridge(bridgeUrl(bridge, tokenOf(bridge)), bridge.origin);
    expect(errorOf(await client.call('fs.readFile', { path: '/etc/passwd' })).code).toBe('UNKNOWN_CHANNEL');
    expect(errorOf(await client.call('__proto__')).code).toBe('UNKNOWN_CHANNEL');
    const bad = errorOf(await client.call('profiles.save', { name: 'Plain HTTP', url: 'http://127.0.0.1:8443', caPem: null, proxy: null }));
    expect(bad.code).toBe('VALIDATION_FAILED');
    expect(bad.message).toMatch(/\burl\b/);
    expect(bad.message).toMatch(/https:\/\//);
    // nothing was saved
    const list = output<{ profiles: { name: string }[] }>(await client.call('profiles.list'));
    expect(list.profiles.map((p) => p.name)).not.toContain('Plain HTTP');
  });

  it('closes the socket with 4003 on a frame that is not a bridge message', async () => {
    const client = await openBridge(bridgeUrl(bridge, tokenOf(bridge)), bridge.origin);
    client.socket.send('this is not json {');
    expect((await client.closed).code).toBe(4003);
    const other = await openBridge(bridgeUrl(bridge, tokenOf(bridge)), bridge.origin);
    other.socket.send(JSON.stringify({ id: -1, call: 'app.info' }));
    expect((await other.closed).code).toBe(4003);
  });

  describe('a custom server profile', () => {
    let profileId: string;

    it('is saved with the server CA, listed, and signs in; the fleet, the connection state and live events come over the socket', async () => {
      const client = await openBridge(bridgeUrl(bridge, tokenOf(bridge)), bridge.origin);
      const saved = output<{ id: string; kind: string; url: string; caPem: string | null }>(
        await client.call('profiles.save', { name: 'Test server', url: ts.url, caPem: ts.ca, proxy: null }),
      );
      profileId = saved.id;
      expect(saved).toMatchObject({ kind: 'custom', url: ts.url, caPem: ts.ca });
      const list = output<{ profiles: { id: string }[] }>(await client.call('profiles.list'));
      expect(list.profiles.map((p) => p.id)).toContain(profileId);

      const session = output<{ signedIn: boolean; user?: { id: string } }>(
        await client.call('session.signIn', { profileId, username: 'bridge-eng', password: engineer.password }),
      );
      expect(session).toMatchObject({ signedIn: true, user: { id: engineer.id } });
      const fleetList = output<{ total: number; items: { serial: string }[] }>(await client.call('fleet.devices', {}));
      expect(fleetList.total).toBe(2);
      expect(fleetList.items.map((d) => d.serial).sort()).toEqual(['BRIDGE-1', 'BRIDGE-2']);

      await waitFor(() => client.events.some((e) => e.event === 'connection.state' && (e.payload as { state: string }).state === 'online'), { what: 'connection.state online' });
      const data = await waitFor(
        () => client.events.find((e) => e.event === 'live.event' && (e.payload as { type: string }).type === 'device.data'),
        { timeoutMs: 15_000, what: 'a live device.data event' },
      );
      expect(data).toMatchObject({ type: 'event', event: 'live.event', payload: { type: 'device.data', deviceId: expect.any(String) } });
      expect(devices.map((d) => d.id)).toContain((data.payload as { deviceId: string }).deviceId);
    });

    it('keeps the refresh token only encrypted, resumes in a new console on the same home, and forgets it after sign-out', async () => {
      const key = `refresh-token:${profileId}`;
      const token = vault.get(key);
      expect(token).toEqual(expect.any(String));
      const sealed = readFileSync(join(home, 'vault.bin'));
      expect(sealed.toString('utf8')).not.toContain(token);
      expect(Buffer.from(sealed.toString('utf8'), 'base64').toString('latin1')).not.toContain(token);
      expect(readFileSync(join(home, 'settings.json'), 'utf8')).not.toContain(token);

      // the console quits without signing out; a new one starts on the same home
      await service.shutdown();
      const second = compose(new EncryptedFileVault(home));
      spare.push(second.service);
      await second.service.resumeLastSession();
      expect(await second.handlers['session.get']({})).toMatchObject({ signedIn: true, user: { id: engineer.id }, profile: { id: profileId } });
      expect((await second.handlers['fleet.devices']({ limit: 100, offset: 0 })).total).toBe(2);

      await second.handlers['session.signOut']({});
      expect(await second.handlers['session.get']({})).toEqual({ signedIn: false });
      const third = compose(new EncryptedFileVault(home));
      spare.push(third.service);
      await third.service.resumeLastSession();
      expect(await third.handlers['session.get']({})).toEqual({ signedIn: false });
      expect(new EncryptedFileVault(home).get(key)).toBeUndefined();
    });
  });
});
