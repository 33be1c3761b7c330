import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentTransport } from '../../../agent-sim/agent/transport.ts';
import { type ComposedConsole } from '../../../src/main/composition.ts';
import { dispatchCall } from '../../../src/main/dispatch.ts';
import { loadOrCreatePki } from '../../../server/pki/pki.ts';
import type { SessionView } from '#contract/api/sessions';
import type { IpcCallName, IpcError, IpcInput, IpcOutput, TunnelItem } from '#contract/ipc';
import { type ConnectProxy, startConnectProxy } from '../../helpers/connect-proxy.ts';
import { composeTestConsole } from '../../helpers/console.ts';
import { tempDir } from '../../helpers/server.ts';
import { connectTunnelClient } from '../../helpers/tunnel-client.ts';
import { waitFor } from '../../helpers/wait.ts';
import { type TunnelWorld, localAudit, openSession, openTunnel, startTunnelWorld, waitForTunnel } from './harness.ts';

/**
 * Tunnels from behind a site's HTTP CONNECT proxy, both legs: the console's link follows
 * its console-wide proxy setting, the agent's link its configured proxy — onto the relay
 * ports when the proxy lets them through, onto the 443 fallback through the same proxy
 * when it allows only the API port, and a clear refusal naming the proxy on a 407. And
 * an agent that knows its server only by a name in its host map reaches the relay too.
 */

interface ProxiedConsole extends ComposedConsole {
  call<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>>;
  failure<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcError>;
  until(id: string, check: (item: TunnelItem) => boolean, what: string): Promise<TunnelItem>;
}

/** A console's main side with a manual console-wide proxy and, optionally, a profile's own proxy, signed in through them. */
async function startProxiedConsole(home: string, world: TunnelWorld, proxies: { consoleWide: string; profile?: string }): Promise<ProxiedConsole> {
  const composed = composeTestConsole({
    home,
    connection: { liveBackoff: { baseMs: 100, maxMs: 500 } },
    tunnels: { redial: { baseMs: 100, maxMs: 500 }, openPollMs: 200 },
  });
  const call = async <K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>> => {
    const result = await dispatchCall(composed.handlers, name, input);
    if (!result.ok) throw Object.assign(new Error(`${name}: ${result.error.code} ${result.error.message}`), result.error);
    return result.output as IpcOutput<K>;
  };
  await call('proxy.set', { settings: { mode: 'manual', url: proxies.consoleWide } });
  const profile = await call('profiles.save', { name: 'Proxied server', url: world.ts.url, caPem: world.ts.ca, proxy: proxies.profile ? { url: proxies.profile } : null });
  await call('session.signIn', { profileId: profile.id, ...world.engineerSignIn });
  return {
    ...composed,
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
          return found && check(found) ? found : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 25, what },
      ),
  };
}

/** Sends `payload` through the tunnel's local port and reads the device's echo of it. */
async function echoThrough(localPort: number, payload: Buffer): Promise<Buffer> {
  const socket = net.connect({ host: '127.0.0.1', port: localPort });
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= payload.length) resolve();
      });
      socket.once('error', reject);
      socket.once('close', () => resolve());
      socket.write(payload);
    });
  } finally {
    socket.destroy();
  }
  return Buffer.concat(chunks);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('tunnels through the site proxy (console setting and agent setting)', () => {
  let consoleProxy: ConnectProxy;
  let agentProxy: ConnectProxy;
  let world: TunnelWorld;
  let root: string;
  let app: ProxiedConsole;
  let session: SessionView;
  let ports: { api: number; agent: number; console: number };

  beforeAll(async () => {
    consoleProxy = await startConnectProxy('open');
    agentProxy = await startConnectProxy('open');
    world = await startTunnelWorld('Proxy Radiology', 'MRX-PX00001', {}, [], () => ({ proxy: { url: agentProxy.url } }));
    const relay = world.ts.server.services.tunnels.relayPorts;
    ports = { api: Number(new URL(world.ts.url).port), agent: relay.agentPort, console: relay.consolePort };
    root = tempDir('tether-tunnel-proxy-');
    app = await startProxiedConsole(join(root, 'home'), world, { consoleWide: consoleProxy.url });
    session = await openSession(world.engineer, world.device.id);
  }, 60_000);

  afterEach(() => {
    for (const proxy of [consoleProxy, agentProxy]) {
      proxy.mode = 'open';
      proxy.onlyPorts = undefined;
    }
  });

  afterAll(async () => {
    await app?.service.shutdown();
    await world?.close();
    await Promise.all([consoleProxy?.close(), agentProxy?.close()]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('carries both legs through their proxies onto the relay ports', async () => {
    const item = await app.call('tunnels.open', { deviceId: world.device.id, sessionId: session.id, targetId: 'service-web' });
    expect(item.localPort).not.toBeNull();
    const payload = randomBytes(2 * 1024 * 1024);
    const back = await echoThrough(item.localPort!, payload);
    expect(sha256(back)).toBe(sha256(payload));

    const view = await waitForTunnel(world.engineer, item.id, 'open');
    expect(view).toMatchObject({ consolePath: 'direct', agentPath: 'direct' });
    // each leg asked its own proxy for its relay port (the agent's own API traffic goes there too)
    expect(consoleProxy.targets).toContain(`127.0.0.1:${ports.console}`);
    expect(agentProxy.targets).toContain(`127.0.0.1:${ports.agent}`);
    expect(consoleProxy.targets).not.toContain(`127.0.0.1:${ports.agent}`);
    expect(agentProxy.targets).not.toContain(`127.0.0.1:${ports.console}`);
    await app.call('tunnels.close', { id: item.id });
  }, 60_000);

  it('takes the server profile’s own proxy over the console-wide one', async () => {
    const profileProxy = await startConnectProxy('open');
    const other = await startProxiedConsole(join(root, 'home-profile'), world, { consoleWide: consoleProxy.url, profile: profileProxy.url });
    try {
      const consoleAsked = consoleProxy.targets.length;
      const item = await other.call('tunnels.open', { deviceId: world.device.id, sessionId: session.id, targetId: 'service-web' });
      const payload = randomBytes(256 * 1024);
      expect(sha256(await echoThrough(item.localPort!, payload))).toBe(sha256(payload));
      expect(profileProxy.targets).toContain(`127.0.0.1:${ports.console}`);
      expect(consoleProxy.targets.slice(consoleAsked)).not.toContain(`127.0.0.1:${ports.console}`);
      await other.call('tunnels.close', { id: item.id });
    } finally {
      await other.service.shutdown();
      await profileProxy.close();
    }
  }, 60_000);

  it('takes the 443 fallback through the same proxies when they allow only the API port', async () => {
    consoleProxy.onlyPorts = [ports.api];
    agentProxy.onlyPorts = [ports.api];
    const consoleAsked = consoleProxy.targets.length;
    const agentAsked = agentProxy.targets.length;
    const item = await app.call('tunnels.open', { deviceId: world.device.id, sessionId: session.id, targetId: 'service-web' });
    expect(item.consolePath).toBe('fallback');
    const payload = randomBytes(2 * 1024 * 1024);
    const back = await echoThrough(item.localPort!, payload);
    expect(sha256(back)).toBe(sha256(payload));

    const view = await waitForTunnel(world.engineer, item.id, 'open');
    expect(view).toMatchObject({ consolePath: 'fallback', agentPath: 'fallback' });
    // the relay port was asked for first (and refused by the proxy), then the API port
    expect(consoleProxy.targets.slice(consoleAsked)).toContain(`127.0.0.1:${ports.console}`);
    expect(agentProxy.targets.slice(agentAsked)).toContain(`127.0.0.1:${ports.agent}`);
    const joined = (await localAudit(world.member)).find((e) => e.action === 'tunnel.open' && e.detail.tunnelId === item.id);
    expect(joined?.detail.path).toBe('fallback');
    await app.call('tunnels.close', { id: item.id });
  }, 60_000);

  it('shows the proxy’s 407 on the tunnel, naming the proxy and where to sign in, and recovers once it lets the link through', async () => {
    const item = await app.call('tunnels.open', { deviceId: world.device.id, sessionId: session.id, targetId: 'service-web' });
    expect(item.consolePath).toBe('direct');
    // the proxy starts asking for credentials and the link on the relay port drops: the redial meets the 407
    consoleProxy.mode = 'demand-auth';
    const asked = consoleProxy.targets.length;
    expect(consoleProxy.cutTunnels(ports.console)).toBeGreaterThan(0);
    const refused = await app.until(item.id, (i) => i.error?.code === 'PROXY_AUTH_REQUIRED', 'the 407 shown on the tunnel');
    expect(refused.link).toBe('reconnecting');
    expect(refused.error?.message).toContain(new URL(consoleProxy.url).host);
    expect(refused.error?.message).toMatch(/407.*Network settings/);
    // the link itself asked the proxy for the relay port again
    expect(consoleProxy.targets.slice(asked)).toContain(`127.0.0.1:${ports.console}`);

    consoleProxy.mode = 'open';
    const back = await app.until(item.id, (i) => i.link === 'connected', 'the link back once the proxy lets it through');
    expect(back.localPort).toBe(item.localPort);
    const payload = randomBytes(64 * 1024);
    expect(sha256(await echoThrough(item.localPort!, payload))).toBe(sha256(payload));
    await app.call('tunnels.close', { id: item.id });
  }, 60_000);
});

describe('the agent transport’s route for tunnel links', () => {
  const relayUrl = 'https://rad-gateway.example.test:17001/';
  let pki: { ca: string };
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('tether-tunnel-route-');
    pki = { ca: (await loadOrCreatePki(dir, [])).ca.certPem };
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const transport = (extra: Partial<ConstructorParameters<typeof AgentTransport>[0]>) =>
    new AgentTransport({ serverUrl: 'https://rad-gateway.example.test:443', serverCaPem: pki.ca, hostMap: { 'rad-gateway.example.test': '127.0.0.1' }, ...extra });

  it('goes through the fixed proxy unless NO_PROXY exempts the relay’s host', async () => {
    const fixed = transport({ proxy: { url: 'http://proxy.hospital.example:3128' } }).tunnelRoute();
    expect((await fixed.agentFor?.(relayUrl))?.proxyHost).toBe('proxy.hospital.example:3128');
    const exempt = transport({ proxy: { url: 'http://proxy.hospital.example:3128', noProxy: '.example.test' } }).tunnelRoute();
    expect(await exempt.agentFor?.(relayUrl)).toBeUndefined();
  });

  it('asks the system setting per URL, and says who chose the proxy and where its sign-in goes', async () => {
    const env = { HTTPS_PROXY: 'http://proxy.hospital.example:3128', NO_PROXY: 'direct.example.test' };
    const route = transport({ proxy: { mode: 'system' }, env }).tunnelRoute();
    const agent = await route.agentFor?.(relayUrl);
    expect(agent?.proxyHost).toBe('proxy.hospital.example:3128');
    expect(agent?.proxyAbout).toEqual({ chosenBy: 'the HTTPS_PROXY environment variable', advice: "add a sign-in for proxy.hospital.example:3128 to the agent's proxy.signIns" });
    expect(await route.agentFor?.('wss://direct.example.test:443/agent/v1/tunnels/t1/link')).toBeUndefined();
  });

  it('dials directly with the host map when no proxy is set', async () => {
    const route = transport({}).tunnelRoute();
    expect(await route.agentFor?.(relayUrl)).toBeUndefined();
    const address = await new Promise<string>((resolve, reject) =>
      route.lookup?.('RAD-gateway.example.test', {}, (err, found) => (err ? reject(err) : resolve(String(found)))),
    );
    expect(address).toBe('127.0.0.1');
  });
});

describe('an agent that knows its server only through its host map', () => {
  const NAME = 'rad-gateway.example.test';
  let world: TunnelWorld;

  beforeAll(async () => {
    world = await startTunnelWorld('Mapped Radiology', 'MRX-HM00001', { hostnames: [NAME] }, [], (ts) => ({
      serverUrl: `https://${NAME}:${new URL(ts.url).port}`,
      hostMap: { [NAME]: '127.0.0.1' },
    }));
  }, 60_000);

  afterAll(async () => {
    await world?.close();
  });

  it('dials the relay under that name, mapped to loopback, and carries bytes end to end', async () => {
    const session = await openSession(world.engineer, world.device.id);
    const opened = await openTunnel(world.engineer, session.id);
    const client = await connectTunnelClient({ tunnelId: opened.tunnel.id, link: opened.link, token: world.engineer.token!, ca: world.ts.ca });
    const view = await waitForTunnel(world.engineer, opened.tunnel.id, 'open');
    expect(view.agentPath).toBe('direct');

    const payload = randomBytes(1024 * 1024);
    const stream = await client.connect();
    const echoed = new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.once('end', () => resolve(Buffer.concat(chunks)));
      stream.once('error', reject);
    });
    stream.end(payload);
    expect(sha256(await echoed)).toBe(sha256(payload));
    const joined = (await localAudit(world.member)).find((e) => e.action === 'tunnel.open' && e.detail.tunnelId === opened.tunnel.id);
    expect(joined?.detail.path).toBe('direct');
    client.close();
    await world.engineer.post(`/api/v1/tunnels/${opened.tunnel.id}/close`);
  }, 60_000);
});
