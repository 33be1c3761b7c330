import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { Agent } from '../../../agent-sim/agent/agent.ts';
import type { Fleet } from '../../../agent-sim/fleet.ts';
import type { LoginResponse, TokenPair } from '#contract/api/auth';
import type { CommandView } from '#contract/api/commands';
import type { DeviceListResponse } from '#contract/api/fleet';
import { LIVE_CLOSE, type LiveEvent, LiveEventSchema } from '#contract/api/live';
import type { ErrorBody } from '#contract/errors';
import { type SeededDevice, createUser, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import type { ApiClient } from '../../helpers/http.ts';
import { type TestServer, startTestServer } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

/** A console's live connection: every message it received, in order, and how it ended. */
interface LiveConnection {
  socket: WebSocket;
  events: LiveEvent[];
  /** Messages that did not match the LiveEvent contract (should stay empty). */
  malformed: string[];
  closed: Promise<{ code: number; reason: string }>;
}

const open: WebSocket[] = [];

function eventsUrl(ts: TestServer): string {
  return `${ts.url.replace('https', 'wss')}/api/v1/events`;
}

/** Opens `GET /api/v1/events` with a bearer token and resolves once the upgrade succeeded. */
async function connectLive(ts: TestServer, token: string): Promise<LiveConnection> {
  const socket = new WebSocket(eventsUrl(ts), { ca: ts.ca, headers: { authorization: `Bearer ${token}` } });
  open.push(socket);
  const events: LiveEvent[] = [];
  const malformed: string[] = [];
  socket.on('message', (data) => {
    const text = String(data);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      malformed.push(text);
      return;
    }
    const parsed = LiveEventSchema.safeParse(json);
    if (parsed.success) events.push(parsed.data);
    else malformed.push(text);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (req, res) => {
      req.destroy();
      reject(new Error(`upgrade refused with ${res.statusCode}`));
    });
  });
  return { socket, events, malformed, closed };
}

/** The first HTTP answer to an upgrade the server refuses, with its JSON body. */
function refusedUpgrade(ts: TestServer, headers: Record<string, string>): Promise<{ status: number; body: ErrorBody }> {
  const socket = new WebSocket(eventsUrl(ts), { ca: ts.ca, headers });
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    socket.once('error', reject);
    socket.once('unexpected-response', (req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ErrorBody });
      });
    });
  });
}

function aboutDevice(event: LiveEvent, deviceId: string): boolean {
  return 'deviceId' in event && event.deviceId === deviceId;
}

function commandViews(conn: LiveConnection, commandId: string): CommandView[] {
  return conn.events.flatMap((e) => (e.type === 'command.state' && e.command.id === commandId ? [e.command] : []));
}

function commandStates(conn: LiveConnection, commandId: string): string[] {
  return commandViews(conn, commandId).map((c) => c.state);
}

function statusesOf(conn: LiveConnection, deviceId: string): string[] {
  return conn.events.flatMap((e) => (e.type === 'device.status' && e.deviceId === deviceId ? [e.status] : []));
}

function wentOfflineThenOnline(statuses: string[]): boolean {
  const offline = statuses.indexOf('offline');
  return offline >= 0 && statuses.indexOf('online', offline) > offline;
}

afterAll(() => {
  for (const socket of open) socket.terminate();
});

describe('live events (GET /api/v1/events) with real agents', () => {
  let ts: TestServer;
  let fleet: Fleet;
  let a1: SeededDevice;
  let a2: SeededDevice;
  let b1: SeededDevice;
  let engineerA: ApiClient;
  let engineerPassword: string;

  beforeAll(async () => {
    ts = await startTestServer({ pollWindowMs: 5_000, loginRateLimit: { max: 1000, windowMs: 60_000 } });
    const a = await seedCustomer(ts, 'Live Alpha Hospital', [
      { serial: 'LIVE-A-0001', modelId: 'stellant-flex' },
      { serial: 'LIVE-A-0002', modelId: 'mrxperion' },
    ]);
    const b = await seedCustomer(ts, 'Live Beta Clinic', [{ serial: 'LIVE-B-0001', modelId: 'stellant-flex' }]);
    [a1, a2] = a.devices as [SeededDevice, SeededDevice];
    [b1] = b.devices as [SeededDevice];
    fleet = await startFleet(ts, [...a.devices, ...b.devices], { tickMs: 100 });
    const engineer = await createUser(ts, 'live-eng-alpha', 'engineer', [a.customer.id]);
    engineerA = engineer.client;
    engineerPassword = engineer.password;
    await waitFor(async () => (await ts.adminClient.get<DeviceListResponse>('/api/v1/devices?status=online')).body.total === 3, {
      timeoutMs: 20_000,
      what: 'all three agents online',
    });
  });

  afterAll(async () => {
    await fleet?.stopAll({ goodbye: false });
    await ts?.destroy();
  });

  it('refuses the upgrade with 401 UNAUTHENTICATED when no token is sent', async () => {
    const refused = await refusedUpgrade(ts, {});
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('refuses the upgrade with 401 for a token that is not valid', async () => {
    const refused = await refusedUpgrade(ts, { authorization: 'Bearer not.a.jwt' });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('TOKEN_INVALID');
  });

  it('greets a new connection with a hello carrying the server time', async () => {
    const live = await connectLive(ts, engineerA.token!);
    const first = await waitFor(() => live.events[0], { what: 'the first message' });
    expect(first.type).toBe('hello');
    expect(first.type === 'hello' && Number.isFinite(Date.parse(first.serverTime))).toBe(true);
    live.socket.close();
  });

  it("streams an engineer their customer's device data, status and command states, and nothing of another customer's", async () => {
    const engineer = await connectLive(ts, engineerA.token!);
    const admin = await connectLive(ts, ts.adminClient.token!);

    // B's device is reporting all along; now it raises an alarm too.
    await fleet.inject(b1.serial, 'pressure-fault');
    const ping = await engineerA.post<{ id: string }>(`/api/v1/devices/${a1.id}/commands`, { name: 'ping', params: { echo: 'scope' } });
    expect(ping.status).toBe(202);
    // A's second device restarts in an orderly way: offline, then online again.
    const member = fleet.get(a2.serial);
    await member.agent.stop({ goodbye: true });
    member.agent = new Agent(member.config, member.device, member.agent.credentials, { logger: pino({ level: 'silent' }) });
    member.agent.start();

    await waitFor(
      () =>
        engineer.events.some((e) => e.type === 'device.data' && e.deviceId === a1.id) &&
        commandStates(engineer, ping.body.id).includes('succeeded') &&
        wentOfflineThenOnline(statusesOf(engineer, a2.id)),
      { timeoutMs: 15_000, what: "A's data, command and status events on the engineer's socket" },
    );

    // B really was busy meanwhile: a fleet-wide console saw its data and its alarm.
    await waitFor(
      () =>
        admin.events.filter((e) => e.type === 'device.data' && e.deviceId === b1.id).length >= 3 &&
        admin.events.some((e) => e.type === 'device.alarm' && e.deviceId === b1.id && e.alarm.code === 'PRESSURE_LIMIT') &&
        admin.events.some((e) => e.type === 'device.event' && e.deviceId === b1.id && e.event.type === 'alarm.raised'),
      { timeoutMs: 15_000, what: "B's data and alarm on the admin's socket" },
    );
    // A marker sent after all of that: anything about B published earlier would have arrived before it.
    const marker = await engineerA.post<{ id: string }>(`/api/v1/devices/${a1.id}/commands`, { name: 'ping', params: { echo: 'marker' } });
    await waitFor(() => commandStates(engineer, marker.body.id).includes('succeeded'), { timeoutMs: 10_000, what: 'the marker command to succeed' });

    expect(engineer.events.filter((e) => aboutDevice(e, b1.id))).toEqual([]);
    expect(engineer.events.some((e) => e.type === 'command.state' && e.deviceId === a1.id)).toBe(true);
    expect(engineer.malformed).toEqual([]);
    expect(admin.malformed).toEqual([]);
    fleet.clear(b1.serial);
    engineer.socket.close();
    admin.socket.close();
  });

  it('reports a queued command as queued, delivered, running and succeeded, in that order', async () => {
    const live = await connectLive(ts, engineerA.token!);
    const queued = await engineerA.post<{ id: string }>(`/api/v1/devices/${a1.id}/commands`, { name: 'ping', params: { echo: 'order', delayMs: 200 } });
    expect(queued.status).toBe(202);
    const states = await waitFor(() => {
      const seen = commandStates(live, queued.body.id);
      return seen.includes('succeeded') ? seen : undefined;
    }, { timeoutMs: 15_000, what: 'the command to succeed on the socket' });
    expect(states).toEqual(['queued', 'delivered', 'running', 'succeeded']);
    const event = live.events.find((e) => e.type === 'command.state' && e.command.id === queued.body.id);
    expect(event).toMatchObject({ deviceId: a1.id, command: { id: queued.body.id, deviceId: a1.id, name: 'ping', params: { echo: 'order', delayMs: 200 }, state: 'queued' } });
    // each event carries the view as its change left it: its history ends with its own state
    const views = commandViews(live, queued.body.id);
    expect(views.map((v) => v.history.map((h) => h.state))).toEqual([
      ['queued'],
      ['queued', 'delivered'],
      ['queued', 'delivered', 'running'],
      ['queued', 'delivered', 'running', 'succeeded'],
    ]);
    const last = views.at(-1)!;
    expect(last.result).not.toBeNull();
    expect(last).toEqual((await engineerA.get<CommandView>(`/api/v1/commands/${queued.body.id}`)).body);
    live.socket.close();
  });

  it('shows a device going offline when its agent says goodbye', async () => {
    const live = await connectLive(ts, engineerA.token!);
    await fleet.get(a2.serial).agent.stop({ goodbye: true });
    const offline = await waitFor(
      () => live.events.find((e) => e.type === 'device.status' && e.deviceId === a2.id && e.status === 'offline'),
      { timeoutMs: 10_000, what: 'an offline status event' },
    );
    expect(offline.type === 'device.status' && offline.lastContactAt).toBeTruthy();
    expect(live.events.some((e) => e.type === 'device.event' && e.deviceId === a2.id && e.event.type === 'status.offline')).toBe(true);
    live.socket.close();
  });

  it("closes the socket with 4002 when its login session logs out, leaving the user's other sessions open", async () => {
    const session = await ts.login('live-eng-alpha', engineerPassword);
    const live = await connectLive(ts, session.token!);
    const otherSession = await connectLive(ts, engineerA.token!);
    await waitFor(() => live.events[0]?.type === 'hello', { what: 'hello' });
    const out = await session.post('/api/v1/auth/logout', {});
    expect(out.status).toBe(204);
    const closed = await live.closed;
    expect(closed.code).toBe(LIVE_CLOSE.sessionRevoked);
    expect(otherSession.socket.readyState).toBe(WebSocket.OPEN);
    otherSession.socket.close();
  });
});

describe('live events with short-lived access tokens', () => {
  let ts: TestServer;
  let password: string;
  let otherPassword: string;

  beforeAll(async () => {
    ts = await startTestServer({ accessTokenTtlSeconds: 5, loginRateLimit: { max: 1000, windowMs: 60_000 } });
    // The admin's 5 s token is only good for setting up.
    password = (await createUser(ts, 'live-short', 'engineer', 'all')).password;
    otherPassword = (await createUser(ts, 'live-other', 'viewer', 'all')).password;
  });

  afterAll(async () => ts?.destroy());

  async function signIn(): Promise<LoginResponse> {
    const res = await ts.anonymous.post<LoginResponse>('/api/v1/auth/login', { username: 'live-short', password });
    if (res.status !== 200) throw new Error(`login: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  it('closes with 4001 at expiry unless renewed in band, and a renewal keeps it open past the original expiry', async () => {
    const renewing = await signIn();
    const renewingLive = await connectLive(ts, renewing.accessToken);
    // Signed in after the first: its token expires no earlier than the renewing one's original token.
    const lapsing = await signIn();
    const lapsingLive = await connectLive(ts, lapsing.accessToken);

    // Renew in a later second than both logins, so the fresh token outlives the original ones.
    await sleep(1_500);
    const fresh = await ts.anonymous.post<TokenPair>('/api/v1/auth/refresh', { refreshToken: renewing.refreshToken });
    expect(fresh.status).toBe(200);
    renewingLive.socket.send(JSON.stringify({ type: 'auth', accessToken: fresh.body.accessToken }));

    const lapsed = await lapsingLive.closed;
    expect(lapsed.code).toBe(LIVE_CLOSE.tokenExpired);
    expect(renewingLive.socket.readyState).toBe(WebSocket.OPEN);

    // The renewal moved the expiry, it did not remove it.
    const renewedEnd = await renewingLive.closed;
    expect(renewedEnd.code).toBe(LIVE_CLOSE.tokenExpired);
  });

  it('closes with 4003 when the client sends something that is not a message it knows', async () => {
    const live = await connectLive(ts, (await signIn()).accessToken);
    live.socket.send('this is not json {');
    expect((await live.closed).code).toBe(LIVE_CLOSE.badMessage);

    const again = await connectLive(ts, (await signIn()).accessToken);
    again.socket.send(JSON.stringify({ type: 'subscribe', deviceId: 'x' }));
    expect((await again.closed).code).toBe(LIVE_CLOSE.badMessage);
  });

  it("closes with 4003 rather than switch a socket to another user's token", async () => {
    const live = await connectLive(ts, (await signIn()).accessToken);
    const other = await ts.login('live-other', otherPassword);
    live.socket.send(JSON.stringify({ type: 'auth', accessToken: other.token }));
    expect((await live.closed).code).toBe(LIVE_CLOSE.badMessage);
  });

  it('closes with 4003 rather than move a socket to another login session of the same user', async () => {
    const live = await connectLive(ts, (await signIn()).accessToken);
    const otherSession = await signIn();
    live.socket.send(JSON.stringify({ type: 'auth', accessToken: otherSession.accessToken }));
    expect((await live.closed).code).toBe(LIVE_CLOSE.badMessage);
  });
});
