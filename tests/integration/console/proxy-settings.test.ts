import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ComposedConsole, composeConsole } from '../../../src/main/composition.ts';
import { dispatchCall } from '../../../src/main/dispatch.ts';
import { NodeProcessLauncher } from '../../../src/main/services/process-launcher.ts';
import { MemoryVault } from '../../../src/main/services/vault.ts';
import type { IpcCallName, IpcError, IpcInput, IpcOutput, PreflightProgress } from '#contract/ipc';
import { createUser } from '../../helpers/admin.ts';
import { type ConnectProxy, PROXY_USER, startConnectProxy } from '../../helpers/connect-proxy.ts';
import { REPO_ROOT } from '../../helpers/processes.ts';
import { type TestServer, startTestServer, tempDir } from '../../helpers/server.ts';
import { waitFor } from '../../helpers/wait.ts';

/**
 * The console-wide proxy setting through the console's real IPC table: signing in
 * over a real TLS server through a loopback CONNECT proxy chosen manually (credentials
 * from the vault) or by a PAC script served on loopback, and `proxy.test` naming the hop
 * that failed.
 */

interface Console {
  composed: ComposedConsole;
  vault: MemoryVault;
  call<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>>;
  fail<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcError>;
}

const consoles: Console[] = [];

function openConsole(env: NodeJS.ProcessEnv = {}): Console {
  const vault = new MemoryVault();
  const composed = composeConsole({
    home: tempDir('proxy-console-'),
    vault,
    launcher: new NodeProcessLauncher(join(REPO_ROOT, 'agent-sim/offline.ts')),
    appInfo: { version: '0.0.0-test', mode: 'browser', platform: process.platform },
    openExternal: async () => undefined,
    // "system" here means the environment (HTTPS_PROXY / NO_PROXY), given per test
    env,
  });
  const dispatch = <K extends IpcCallName>(name: K, input: IpcInput<K>) => dispatchCall(composed.handlers, name, input, (err) => console.error(err));
  const c: Console = {
    composed,
    vault,
    call: async (name, input) => {
      const result = await dispatch(name, input);
      if (!result.ok) throw new Error(`${name} failed: ${result.error.code} ${result.error.message}`);
      return result.output as never;
    },
    fail: async (name, input) => {
      const result = await dispatch(name, input);
      if (result.ok) throw new Error(`${name} unexpectedly succeeded`);
      return result.error;
    },
  };
  consoles.push(c);
  return c;
}

let ts: TestServer;
let engineer: { id: string; password: string };
let proxy: ConnectProxy;
let pacServer: http.Server;
let pacBase: string;
/** The PAC script served at /proxy.pac: the test server's host through the proxy, anything else direct. */
let pacScript = '';

beforeAll(async () => {
  ts = await startTestServer();
  engineer = await createUser(ts, 'proxy-eng', 'engineer', 'all');
  proxy = await startConnectProxy('open');
  pacServer = http.createServer((req, res) => {
    if (req.url === '/proxy.pac') {
      res.writeHead(200, { 'content-type': 'application/x-ns-proxy-autoconfig' });
      res.end(pacScript);
    } else {
      res.writeHead(200);
      res.end('this is not a PAC script');
    }
  });
  await new Promise<void>((resolve) => pacServer.listen(0, '127.0.0.1', resolve));
  pacBase = `http://127.0.0.1:${(pacServer.address() as AddressInfo).port}`;
  const proxyHostPort = new URL(proxy.url).host;
  pacScript = `function FindProxyForURL(url, host) {
    if (url.indexOf(":${new URL(ts.url).port}/") !== -1) return "PROXY ${proxyHostPort}; DIRECT";
    return "DIRECT";
  }`;
});

afterAll(async () => {
  for (const c of consoles) await c.composed.service.shutdown();
  await new Promise<void>((resolve) => pacServer?.close(() => resolve()));
  await proxy?.close();
  await ts?.destroy();
});

async function signIn(c: Console): Promise<IpcOutput<'session.signIn'>> {
  const profile = await c.call('profiles.save', { name: 'Test server', url: ts.url, caPem: ts.ca, proxy: null });
  return c.call('session.signIn', { profileId: profile.id, username: 'proxy-eng', password: engineer.password });
}

describe('console-wide proxy settings', () => {
  it('keeps the manual proxy password in the vault only and never answers it', async () => {
    const c = openConsole();
    expect(await c.call('proxy.get', {})).toEqual({ settings: { mode: 'none' }, hasPassword: false, signInPasswords: [], systemSource: 'environment' });
    const saved = await c.call('proxy.set', { settings: { mode: 'manual', url: proxy.url, username: PROXY_USER.username }, password: PROXY_USER.password });
    expect(saved).toEqual({ settings: { mode: 'manual', url: proxy.url, username: PROXY_USER.username }, hasPassword: true, signInPasswords: [], systemSource: 'environment' });
    expect(JSON.stringify(saved)).not.toContain(PROXY_USER.password);
    expect(c.vault.get('proxy-password:console')).toBe(PROXY_USER.password);
    // leaving the mode drops the password: no unused secret is kept
    await c.call('proxy.set', { settings: { mode: 'none' } });
    expect(c.vault.get('proxy-password:console')).toBeUndefined();
    const bad = await c.fail('proxy.set', { settings: { mode: 'manual', url: 'http://proxy.example' } } as never);
    expect(bad.code).toBe('VALIDATION_FAILED');
  });

  it('signs in directly in mode none, the proxy untouched', async () => {
    const c = openConsole();
    const before = proxy.targets.length;
    expect(await signIn(c)).toMatchObject({ signedIn: true, user: { id: engineer.id } });
    expect((await c.call('fleet.customers', {})).items).toEqual(expect.any(Array));
    expect(proxy.targets.length).toBe(before);
  });

  it('follows HTTPS_PROXY as the system proxy in browser mode, and NO_PROXY around it', async () => {
    proxy.mode = 'open';
    const viaEnv = openConsole({ HTTPS_PROXY: proxy.url });
    await viaEnv.call('proxy.set', { settings: { mode: 'system' } });
    const before = proxy.targets.length;
    expect(await signIn(viaEnv)).toMatchObject({ signedIn: true });
    expect(proxy.targets.slice(before)).toContain(new URL(ts.url).host);
    // a proxy of its own, so the first console's live socket cannot blur the count
    const unused = await startConnectProxy('open');
    try {
      const bypassing = openConsole({ HTTPS_PROXY: unused.url, NO_PROXY: new URL(ts.url).hostname });
      await bypassing.call('proxy.set', { settings: { mode: 'system' } });
      expect(await signIn(bypassing)).toMatchObject({ signedIn: true });
      expect(unused.targets).toEqual([]);
    } finally {
      await unused.close();
    }
  });

  it('signs in through a manual proxy with credentials from the vault, tunnelling to the server', async () => {
    proxy.mode = 'demand-auth';
    const c = openConsole();
    await c.call('proxy.set', { settings: { mode: 'manual', url: proxy.url, username: PROXY_USER.username }, password: PROXY_USER.password });
    const before = proxy.targets.length;
    const session = await signIn(c);
    expect(session).toMatchObject({ signedIn: true, user: { id: engineer.id } });
    expect(proxy.targets.slice(before)).toContain(new URL(ts.url).host);
    expect((await c.call('fleet.customers', {})).items).toEqual(expect.any(Array));
  });

  it('gives a pre-flight run through the console’s manual proxy the vault’s credentials', async () => {
    proxy.mode = 'demand-auth';
    const c = openConsole();
    const progress: PreflightProgress[] = [];
    c.composed.events.attach((event, payload) => {
      if (event === 'preflight.progress') progress.push(payload as PreflightProgress);
    });
    await c.call('proxy.set', { settings: { mode: 'manual', url: proxy.url, username: PROXY_USER.username }, password: PROXY_USER.password });
    await signIn(c);
    // the renderer's field carries the URL only, as the console setting fills it in
    const { runId } = await c.call('preflight.run', { profileId: 'tether-server', proxy: { url: proxy.url } });
    const finished = await waitFor(() => progress.find((e): e is Extract<PreflightProgress, { kind: 'finished' }> => e.kind === 'finished' && e.runId === runId), {
      timeoutMs: 20_000,
      what: 'the pre-flight run to finish',
    });
    const row = finished.report.rows.find((r) => r.port === Number(new URL(ts.url).port));
    expect(row?.proxy?.status).toBe(200);
    expect(row?.problem).toBeNull();
  });

  it('answers PROXY_AUTH_REQUIRED when the vault has the wrong password', async () => {
    proxy.mode = 'demand-auth';
    const c = openConsole();
    await c.call('proxy.set', { settings: { mode: 'manual', url: proxy.url, username: PROXY_USER.username }, password: 'wrong' });
    const profile = await c.call('profiles.save', { name: 'Test server', url: ts.url, caPem: ts.ca, proxy: null });
    const err = await c.fail('session.signIn', { profileId: profile.id, username: 'proxy-eng', password: engineer.password });
    expect(err.code).toBe('PROXY_AUTH_REQUIRED');
    expect(err.message).toContain(new URL(proxy.url).host);
  });

  it('signs in through the proxy a PAC script selects', async () => {
    proxy.mode = 'open';
    const c = openConsole();
    await c.call('proxy.set', { settings: { mode: 'pac', pacUrl: `${pacBase}/proxy.pac` } });
    const before = proxy.targets.length;
    expect(await signIn(c)).toMatchObject({ signedIn: true, user: { id: engineer.id } });
    expect(proxy.targets.slice(before)).toContain(new URL(ts.url).host);
  });

  it('refuses to sign in with CONFIG_INVALID when the PAC URL serves no PAC script', async () => {
    const c = openConsole();
    await c.call('proxy.set', { settings: { mode: 'pac', pacUrl: `${pacBase}/not-a-pac` } });
    const profile = await c.call('profiles.save', { name: 'Test server', url: ts.url, caPem: ts.ca, proxy: null });
    const err = await c.fail('session.signIn', { profileId: profile.id, username: 'proxy-eng', password: engineer.password });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('not-a-pac');
  });

  it('lets a server profile’s own proxy override the console setting', async () => {
    proxy.mode = 'open';
    const c = openConsole();
    await c.call('proxy.set', { settings: { mode: 'pac', pacUrl: `${pacBase}/not-a-pac` } });
    const profile = await c.call('profiles.save', { name: 'Own proxy', url: ts.url, caPem: ts.ca, proxy: { url: proxy.url } });
    const before = proxy.targets.length;
    expect(await c.call('session.signIn', { profileId: profile.id, username: 'proxy-eng', password: engineer.password })).toMatchObject({ signedIn: true });
    expect(proxy.targets.slice(before)).toContain(new URL(ts.url).host);
  });
});

describe('sign-in for a proxy that PAC or the system chooses', () => {
  const proxyHostPort = () => new URL(proxy.url).host;

  it('names the proxy that asked and where its sign-in goes, then signs in with the sign-in kept for it', async () => {
    proxy.mode = 'demand-auth';
    const c = openConsole();
    await c.call('proxy.set', { settings: { mode: 'pac', pacUrl: `${pacBase}/proxy.pac` } });
    const profile = await c.call('profiles.save', { name: 'Test server', url: ts.url, caPem: ts.ca, proxy: null });
    const asked = await c.fail('session.signIn', { profileId: profile.id, username: 'proxy-eng', password: engineer.password });
    expect(asked.code).toBe('PROXY_AUTH_REQUIRED');
    expect(asked.message).toBe(
      `the proxy ${proxyHostPort()} (chosen by the PAC script) requires (other) credentials (407) — add a sign-in for ${proxyHostPort()} under Network settings → Proxy sign-in`,
    );
    const tested = await c.call('proxy.test', { url: ts.url });
    expect(tested).toMatchObject({ ok: false, failedHop: 'proxy', route: `http://${proxyHostPort()}`, problem: { kind: 'proxy-auth-required', status: 407 } });
    expect(tested.message).toContain(`add a sign-in for ${proxyHostPort()}`);

    const saved = await c.call('proxy.set', {
      settings: { mode: 'pac', pacUrl: `${pacBase}/proxy.pac`, signIns: [{ proxy: proxyHostPort(), username: PROXY_USER.username }] },
      signInPasswords: { [proxyHostPort()]: PROXY_USER.password },
    });
    expect(saved.signInPasswords).toEqual([proxyHostPort()]);
    expect(JSON.stringify(saved)).not.toContain(PROXY_USER.password);
    expect(c.vault.get(`proxy-sign-in:${proxyHostPort()}`)).toBe(PROXY_USER.password);
    expect(await c.call('proxy.test', { url: ts.url })).toMatchObject({ ok: true, failedHop: null });
    const before = proxy.targets.length;
    expect(await c.call('session.signIn', { profileId: profile.id, username: 'proxy-eng', password: engineer.password })).toMatchObject({ signedIn: true });
    expect(proxy.targets.slice(before)).toContain(new URL(ts.url).host);
  });

  it('says the saved sign-in was refused when its password is wrong, and forgets the password with its sign-in', async () => {
    proxy.mode = 'demand-auth';
    const c = openConsole();
    const signIns = [{ proxy: proxyHostPort(), username: PROXY_USER.username }];
    await c.call('proxy.set', { settings: { mode: 'pac', pacUrl: `${pacBase}/proxy.pac`, signIns }, signInPasswords: { [proxyHostPort()]: 'wrong' } });
    const profile = await c.call('profiles.save', { name: 'Test server', url: ts.url, caPem: ts.ca, proxy: null });
    const refused = await c.fail('session.signIn', { profileId: profile.id, username: 'proxy-eng', password: engineer.password });
    expect(refused.code).toBe('PROXY_AUTH_REQUIRED');
    expect(refused.message).toContain(`the sign-in saved for ${proxyHostPort()} (user "${PROXY_USER.username}") was not accepted`);
    // a password for a proxy with no sign-in is refused rather than kept unused
    const orphan = await c.fail('proxy.set', { settings: { mode: 'pac', pacUrl: `${pacBase}/proxy.pac` }, signInPasswords: { 'other.example:3128': 'x' } });
    expect(orphan).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(orphan.message).toContain('other.example:3128');
    await c.call('proxy.set', { settings: { mode: 'pac', pacUrl: `${pacBase}/proxy.pac` } });
    expect(c.vault.get(`proxy-sign-in:${proxyHostPort()}`)).toBeUndefined();
  });

  it('signs in through the system proxy (HTTPS_PROXY) with the sign-in kept for it', async () => {
    proxy.mode = 'demand-auth';
    const c = openConsole({ HTTPS_PROXY: proxy.url });
    await c.call('proxy.set', { settings: { mode: 'system' } });
    const profile = await c.call('profiles.save', { name: 'Test server', url: ts.url, caPem: ts.ca, proxy: null });
    const asked = await c.fail('session.signIn', { profileId: profile.id, username: 'proxy-eng', password: engineer.password });
    expect(asked.message).toContain(`the proxy ${proxyHostPort()} (chosen by the system proxy settings) requires (other) credentials (407)`);
    await c.call('proxy.set', { settings: { mode: 'system', signIns: [{ proxy: proxyHostPort(), username: PROXY_USER.username }] }, signInPasswords: { [proxyHostPort()]: PROXY_USER.password } });
    expect(await c.call('session.signIn', { profileId: profile.id, username: 'proxy-eng', password: engineer.password })).toMatchObject({ signedIn: true });
  });
});

describe('proxy.test', () => {
  const target = () => new URL(ts.url).host;

  it('reports the direct route when no proxy is set', async () => {
    const c = openConsole();
    const result = await c.call('proxy.test', { url: ts.url });
    expect(result).toMatchObject({ target: target(), mode: 'none', route: 'DIRECT', ok: true, failedHop: null });
  });

  it('reports a working tunnel through an allowing proxy', async () => {
    proxy.mode = 'open';
    const c = openConsole();
    await c.call('proxy.set', { settings: { mode: 'manual', url: proxy.url } });
    const result = await c.call('proxy.test', { url: ts.url });
    expect(result).toMatchObject({ target: target(), mode: 'manual', route: new URL(proxy.url).origin, ok: true, failedHop: null });
    expect(result.message).toContain('opened a tunnel');
  });

  it('names the proxy as the failing hop on 407, and passes with the vault’s credentials', async () => {
    proxy.mode = 'demand-auth';
    const c = openConsole();
    await c.call('proxy.set', { settings: { mode: 'manual', url: proxy.url } });
    const refused = await c.call('proxy.test', { url: ts.url });
    expect(refused).toMatchObject({ ok: false, failedHop: 'proxy', problem: { kind: 'proxy-auth-required', status: 407 } });
    await c.call('proxy.set', { settings: { mode: 'manual', url: proxy.url, username: PROXY_USER.username }, password: PROXY_USER.password });
    expect(await c.call('proxy.test', { url: ts.url })).toMatchObject({ ok: true, failedHop: null });
  });

  it('names the proxy as the failing hop on 403', async () => {
    proxy.mode = 'refuse';
    const c = openConsole();
    await c.call('proxy.set', { settings: { mode: 'manual', url: proxy.url } });
    const result = await c.call('proxy.test', { url: ts.url });
    expect(result).toMatchObject({ ok: false, failedHop: 'proxy', problem: { kind: 'proxy-refused', status: 403 } });
    expect(result.message).toContain('403');
  });

  it('names the PAC script as the failing hop when it cannot be used', async () => {
    const c = openConsole();
    await c.call('proxy.set', { settings: { mode: 'pac', pacUrl: `${pacBase}/not-a-pac` } });
    const result = await c.call('proxy.test', { url: ts.url });
    expect(result).toMatchObject({ mode: 'pac', route: null, ok: false, failedHop: 'pac' });
  });

  it('tests the signed-in server when given no URL, and asks for one when signed out', async () => {
    proxy.mode = 'open';
    const c = openConsole();
    expect((await c.fail('proxy.test', {})).code).toBe('VALIDATION_FAILED');
    await c.call('proxy.set', { settings: { mode: 'pac', pacUrl: `${pacBase}/proxy.pac` } });
    await signIn(c);
    expect(await c.call('proxy.test', {})).toMatchObject({ target: target(), mode: 'pac', route: new URL(proxy.url).origin, ok: true });
  });
});
