import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Fleet } from '../../../agent-sim/fleet.ts';
import { createCertificateAuthority } from '../../../server/pki/certificates.ts';
import type { AuditEntry } from '#contract/api/audit';
import type { LiveEvent } from '#contract/api/live';
import { TetherError } from '#contract/errors';
import type { ConnectionState } from '#contract/ipc';
import { ServerConnection, type ServerConnectionOptions } from '../../../src/main/services/server-connection.ts';
import type { ServerTarget } from '../../../src/main/services/http-agent.ts';
import { type SeededDevice, createUser, seedCustomer } from '../../helpers/admin.ts';
import { startFleet } from '../../helpers/fleet.ts';
import { type TestServer, startTestServer, tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';
import { type ConnectProxy, startConnectProxy } from '../../helpers/connect-proxy.ts';

/** A loopback port nothing listens on (bound once, then released). */
async function closedLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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

/** What a connection told its owner: refresh tokens kept, states, events, session end. */
interface Observed {
  tokens: (string | undefined)[];
  states: ConnectionState[];
  events: LiveEvent[];
  ended: TetherError[];
}

const connections: ServerConnection[] = [];

function connect(target: ServerTarget, extra: ServerConnectionOptions = {}): { connection: ServerConnection; seen: Observed } {
  const seen: Observed = { tokens: [], states: [], events: [], ended: [] };
  const connection = new ServerConnection(target, {
    onRefreshToken: (token) => seen.tokens.push(token),
    onConnectionState: (state) => seen.states.push(state),
    onLiveEvent: (event) => seen.events.push(event),
    onSessionEnded: (error) => seen.ended.push(error),
    requestTimeoutMs: 5000,
    ...extra,
  });
  connections.push(connection);
  return { connection, seen };
}

afterEach(() => {
  for (const c of connections.splice(0)) c.close();
});

/** Audit entries of one action, read with a fresh admin sign-in (test tokens may be short-lived). */
async function auditOf(ts: TestServer, action: string): Promise<AuditEntry[]> {
  const admin = await ts.login(ts.admin.username, ts.admin.password);
  const res = await admin.get<{ items: AuditEntry[] }>(`/api/v1/audit?action=${action}&limit=1000`);
  if (res.status !== 200) throw new Error(`audit: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.items;
}

/** Spends a refresh token from outside the console, as a thief holding a copy would. */
async function refreshFromOutside(ts: TestServer, refreshToken: string): Promise<{ status: number; body: { error?: { code: string } } }> {
  return ts.anonymous.post('/api/v1/auth/refresh', { refreshToken });
}

describe('ServerConnection sign-in and connection failures', () => {
  let ts: TestServer;
  let user: { id: string; password: string };
  let proxy: ConnectProxy;

  beforeAll(async () => {
    ts = await startTestServer();
    user = await createUser(ts, 'console-eng', 'engineer', 'all');
    proxy = await startConnectProxy();
  });
  afterAll(async () => {
    await proxy?.close();
    await ts?.destroy();
  });

  it('signs in and returns the user with a token pair', async () => {
    const { connection, seen } = connect({ url: ts.url, caPem: ts.ca });
    const login = await connection.signIn('console-eng', user.password);
    expect(login.user).toMatchObject({ id: user.id, username: 'console-eng', role: 'engineer', customerIds: 'all' });
    expect(connection.signedIn).toBe(true);
    expect(seen.tokens).toEqual([login.refreshToken]);
    expect(await connection.api.call('auth.me', {})).toMatchObject({ id: user.id });
  });

  it('answers a wrong password with INVALID_CREDENTIALS and stays signed out', async () => {
    const { connection } = connect({ url: ts.url, caPem: ts.ca });
    const err = await failure(connection.signIn('console-eng', 'not-the-password'));
    expect(err.code).toBe('INVALID_CREDENTIALS');
    expect(connection.signedIn).toBe(false);
    expect((await failure(connection.api.call('auth.me', {}))).code).toBe('NOT_SIGNED_IN');
  });

  it('reports ACCOUNT_LOCKED with the seconds to wait after five wrong passwords, even for the right one', async () => {
    const locked = await createUser(ts, 'console-locked', 'viewer', 'all');
    const { connection } = connect({ url: ts.url, caPem: ts.ca });
    for (let i = 0; i < 4; i += 1) expect((await failure(connection.signIn('console-locked', 'wrong'))).code).toBe('INVALID_CREDENTIALS');
    const fifth = await failure(connection.signIn('console-locked', 'wrong'));
    expect(fifth.code).toBe('ACCOUNT_LOCKED');
    const wait = fifth.details?.retryAfterSeconds;
    expect(typeof wait).toBe('number');
    expect(wait).toBeGreaterThan(14 * 60);
    expect(wait).toBeLessThanOrEqual(15 * 60);
    const right = await failure(connection.signIn('console-locked', locked.password));
    expect(right.code).toBe('ACCOUNT_LOCKED');
    expect(right.details?.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('reports SERVER_UNREACHABLE naming the host when nothing listens there', async () => {
    const port = await closedLoopbackPort();
    const { connection } = connect({ url: `https://127.0.0.1:${port}`, caPem: ts.ca });
    const err = await failure(connection.signIn('console-eng', user.password));
    expect(err.code).toBe('SERVER_UNREACHABLE');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toMatch(/connection refused/);
  });

  it('refuses a server whose certificate is not from the pinned CA with CERT_PIN_MISMATCH', async () => {
    const rogue = await createCertificateAuthority('Some Other CA');
    const { connection } = connect({ url: ts.url, caPem: rogue.certPem });
    const err = await failure(connection.signIn('console-eng', user.password));
    expect(err.code).toBe('CERT_PIN_MISMATCH');
    expect(err.message).toContain(new URL(ts.url).host);
    expect(err.details?.tlsCode).toEqual(expect.any(String));
  });

  it('reports PROXY_REFUSED when the proxy answers CONNECT with 403', async () => {
    proxy.mode = 'refuse';
    const before = proxy.targets.length;
    const { connection } = connect({ url: ts.url, caPem: ts.ca, proxy: { url: proxy.url } });
    const err = await failure(connection.signIn('console-eng', user.password));
    expect(err.code).toBe('PROXY_REFUSED');
    expect(err.message).toContain(new URL(proxy.url).host);
    expect(err.message).toContain('403');
    expect(proxy.targets.length).toBeGreaterThan(before);
  });

  it('reports PROXY_AUTH_REQUIRED when the proxy wants credentials it did not get (407)', async () => {
    proxy.mode = 'demand-auth';
    const { connection } = connect({ url: ts.url, caPem: ts.ca, proxy: { url: proxy.url } });
    expect((await failure(connection.signIn('console-eng', user.password))).code).toBe('PROXY_AUTH_REQUIRED');
    const wrong = connect({ url: ts.url, caPem: ts.ca, proxy: { url: proxy.url, username: 'user', password: 'nope' } });
    expect((await failure(wrong.connection.signIn('console-eng', user.password))).code).toBe('PROXY_AUTH_REQUIRED');
  });

  it('signs in through a working proxy with its credentials, tunnelling with CONNECT to the server', async () => {
    proxy.mode = 'demand-auth';
    const before = proxy.targets.length;
    const { connection } = connect({ url: ts.url, caPem: ts.ca, proxy: { url: proxy.url, username: 'user', password: 'pass' } });
    const login = await connection.signIn('console-eng', user.password);
    expect(login.user.id).toBe(user.id);
    expect(await connection.api.call('auth.me', {})).toMatchObject({ id: user.id });
    expect(proxy.targets.slice(before)).toContain(new URL(ts.url).host);
  });

  it('ends the session when a copy of the refresh token is reused elsewhere: the live socket closes and onSessionEnded fires', async () => {
    const { connection, seen } = connect({ url: ts.url, caPem: ts.ca });
    await connection.signIn('console-eng', user.password);
    connection.startLive();
    await waitFor(() => seen.states.some((s) => s.state === 'online'), { what: 'live socket online' });
    const stolen = seen.tokens.at(-1);
    if (!stolen) throw new Error('no refresh token kept');

    expect((await refreshFromOutside(ts, stolen)).status).toBe(200);
    const reuse = await refreshFromOutside(ts, stolen);
    expect(reuse.status).toBe(401);
    expect(reuse.body.error?.code).toBe('REFRESH_TOKEN_REUSED');

    // the default access token lives 15 minutes: only the socket (4002) can tell the console this soon
    const [ended] = await waitFor(() => (seen.ended.length > 0 ? seen.ended : undefined), { what: 'onSessionEnded' });
    expect(ended).toBeInstanceOf(TetherError);
    expect(ended?.code).toBe('TOKEN_INVALID');
    expect(ended?.message).toMatch(/sign in again/);
    expect(seen.ended).toHaveLength(1);
    expect(seen.tokens.at(-1)).toBeUndefined();
    expect(connection.signedIn).toBe(false);
    expect((await failure(connection.api.call('auth.me', {}))).code).toBe('NOT_SIGNED_IN');
  });

  it('signOut ends the session on the server: its refresh token is dead and the logout is audited', async () => {
    const { connection, seen } = connect({ url: ts.url, caPem: ts.ca });
    await connection.signIn('console-eng', user.password);
    const refreshToken = seen.tokens.at(-1);
    if (!refreshToken) throw new Error('no refresh token kept');
    const logoutsBefore = (await auditOf(ts, 'auth.logout')).filter((e) => e.actorId === user.id).length;

    await connection.signOut();
    expect(seen.tokens.at(-1)).toBeUndefined();
    expect(connection.signedIn).toBe(false);
    expect((await failure(connection.api.call('auth.me', {}))).code).toBe('NOT_SIGNED_IN');

    const after = await refreshFromOutside(ts, refreshToken);
    expect(after.status).toBe(401);
    expect(after.body.error?.code).toBe('REFRESH_TOKEN_INVALID');
    expect((await auditOf(ts, 'auth.logout')).filter((e) => e.actorId === user.id)).toHaveLength(logoutsBefore + 1);
  });
});

describe('ServerConnection with short-lived access tokens (5 s)', () => {
  let ts: TestServer;
  let user: { id: string; password: string };

  beforeAll(async () => {
    ts = await startTestServer({ accessTokenTtlSeconds: 5 });
    user = await createUser(ts, 'short-eng', 'engineer', 'all');
  });
  afterAll(async () => {
    await ts?.destroy();
  });

  it('keeps working after the first access token lapsed, handing the new refresh token to its owner', async () => {
    const { connection, seen } = connect({ url: ts.url, caPem: ts.ca });
    const login = await connection.signIn('short-eng', user.password);
    await sleep(6000);
    expect(await connection.api.call('auth.me', {})).toMatchObject({ id: user.id });
    expect(seen.tokens.length).toBeGreaterThanOrEqual(2);
    expect(seen.tokens[0]).toBe(login.refreshToken);
    expect(seen.tokens.at(-1)).toEqual(expect.any(String));
    expect(seen.tokens.at(-1)).not.toBe(login.refreshToken);
    expect(seen.ended).toEqual([]);
  });

  it('runs one refresh for many concurrent callers: no spent token is presented and the session lives on', async () => {
    const { connection, seen } = connect({ url: ts.url, caPem: ts.ca });
    await connection.signIn('short-eng', user.password);
    const before = seen.tokens.length;
    const results = await Promise.all([
      connection.refresh(),
      ...Array.from({ length: 6 }, () => connection.api.call('auth.me', {})),
      connection.refresh(),
      connection.refresh(),
    ]);
    expect(results.filter((r) => r !== undefined)).toHaveLength(6);
    expect(seen.tokens.length - before).toBe(1);
    expect(await auditOf(ts, 'auth.refresh-reuse')).toEqual([]);
    expect(await connection.api.call('auth.me', {})).toMatchObject({ id: user.id });
    expect(seen.ended).toEqual([]);
  });

  it('after the process was suspended past the token lifetime, concurrent calls all succeed through exactly one refresh', async () => {
    const { connection, seen } = connect({ url: ts.url, caPem: ts.ca });
    await connection.signIn('short-eng', user.password);
    await connection.api.call('auth.me', {});
    const before = seen.tokens.length;
    // As a laptop lid closed for 5.5 s: no timer runs, and the token lapses meanwhile.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5500);
    const answers = await Promise.all(Array.from({ length: 8 }, () => connection.api.call('auth.me', {})));
    expect(answers.every((a) => a.id === user.id)).toBe(true);
    expect(await auditOf(ts, 'auth.refresh-reuse')).toEqual([]);
    expect(seen.ended).toEqual([]);
    // a call that was answered TOKEN_EXPIRED after another caller's refresh finished must
    // retry with the new token, not rotate the session again
    expect(seen.tokens.slice(before)).toHaveLength(1);
  });

  it('notices a session revoked elsewhere at its next scheduled refresh, without a live socket', async () => {
    const { connection, seen } = connect({ url: ts.url, caPem: ts.ca });
    await connection.signIn('short-eng', user.password);
    const stolen = seen.tokens.at(-1);
    if (!stolen) throw new Error('no refresh token kept');
    await refreshFromOutside(ts, stolen);
    expect((await refreshFromOutside(ts, stolen)).body.error?.code).toBe('REFRESH_TOKEN_REUSED');

    const [ended] = await waitFor(() => (seen.ended.length > 0 ? seen.ended : undefined), { timeoutMs: 8000, what: 'onSessionEnded at the scheduled refresh' });
    expect(ended).toBeInstanceOf(TetherError);
    expect(ended?.code).toBe('REFRESH_TOKEN_INVALID');
    expect(seen.tokens.at(-1)).toBeUndefined();
    expect(connection.signedIn).toBe(false);
  });
});

describe('ServerConnection live events across a server outage', () => {
  let ts: TestServer;
  let port: number;
  let device: SeededDevice;
  let fleet: Fleet | undefined;
  let agentsDir: string | undefined;

  beforeAll(async () => {
    port = await closedLoopbackPort();
    agentsDir = tempDir('tether-console-agents-');
    ts = await startTestServer({ port, pollWindowMs: 2000 });
    const seeded = await seedCustomer(ts, 'Live Clinic', [{ serial: 'LIVE-CONSOLE-1', modelId: 'stellant-flex' }]);
    device = seeded.devices[0] as SeededDevice;
    fleet = await startFleet(ts, seeded.devices, { dataDir: join(agentsDir, 'agents') });
  });
  afterAll(async () => {
    await fleet?.stopAll({ goodbye: false });
    await ts?.destroy();
    if (agentsDir) rmSync(agentsDir, { recursive: true, force: true });
  });

  it('goes online, delivers device data, reads reconnecting then offline while the server is down, and comes back resumed', async () => {
    const { connection, seen } = connect({ url: ts.url, caPem: ts.ca }, { liveBackoff: { baseMs: 50, maxMs: 200 } });
    await connection.signIn(ts.admin.username, ts.admin.password);
    connection.startLive();
    await waitFor(() => seen.states.some((s) => s.state === 'online'), { what: 'online' });
    expect(seen.states[0]).toMatchObject({ state: 'online', resumed: false });
    await waitFor(() => seen.events.some((e) => e.type === 'device.data' && e.deviceId === device.id), { timeoutMs: 15_000, what: 'device.data for the running agent' });

    const { dataDir, admin } = ts;
    await ts.close();
    await waitFor(() => seen.states.some((s) => s.state === 'offline'), { what: 'offline' });
    const lost = seen.states.slice(1);
    expect(lost[0]?.state).toBe('reconnecting');
    expect(lost[0]?.detail).toMatch(/retrying in/);
    const firstOffline = lost.findIndex((s) => s.state === 'offline');
    // three failed attempts read "reconnecting", the fourth "offline"
    expect(lost.slice(0, firstOffline).map((s) => s.state)).toEqual(['reconnecting', 'reconnecting', 'reconnecting']);

    ts = await startTestServer({ port, pollWindowMs: 2000 }, { dataDir, admin });
    const eventsBefore = seen.events.length;
    const back = await waitFor(() => seen.states.slice(1).find((s) => s.state === 'online'), { timeoutMs: 15_000, what: 'back online' });
    expect(back.resumed).toBe(true);
    expect(back.detail).toBeNull();
    await waitFor(() => seen.events.slice(eventsBefore).some((e) => e.type === 'device.data' && e.deviceId === device.id), { timeoutMs: 20_000, what: 'device.data after the restart' });
    expect(await connection.api.call('auth.me', {})).toMatchObject({ username: ts.admin.username });
  });
});
