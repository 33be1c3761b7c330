import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type http from 'node:http';
import https from 'node:https';
import tls, { type SecureContext, createSecureContext } from 'node:tls';
import { isIP } from 'node:net';
import { Agent as ConnectingAgent, type AgentConnectOpts } from 'agent-base';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { TetherError, parseErrorBody } from '#contract/errors';
import { AGENT_ROUTES, type AgentRoutes } from '#contract/http/agent-routes';
import { RouteClient, type RouteRequest } from '#contract/http/client';
import { describeConnectionError, proxyRefusal } from '#node-lib/connection-errors';
import { DEVICE_SECRET_HEADER } from '#contract/protocol/enroll';
import type { TunnelLinkAgent, TunnelLinkRoute } from '#node-lib/tunnel-link';
import { ProxyResolver, type ProxyRoute, environmentProxyLookup } from '#node-lib/proxy-resolver';
import { type AgentProxy, type ChosenProxy, bypassesProxy } from './config.ts';

/** The device's TLS identity and secret, present once enrolled. */
export interface DeviceIdentity {
  certificatePem: string;
  privateKeyPem: string;
  deviceSecret: string;
}

export interface TransportOptions {
  serverUrl: string;
  serverCaPem: string;
  proxy?: AgentProxy | undefined;
  hostMap?: Record<string, string> | undefined;
  identity?: DeviceIdentity | undefined;
  /** Where the `system` proxy mode reads HTTPS_PROXY / NO_PROXY; default the process's environment. */
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * The held poll, a short-lived one for urgent reports, and — only while a file transfer
 * runs — connections that stream its chunks.
 */
export type Channel = 'poll' | 'report' | 'transfer';

/** How one protocol request goes: on which channel, how long it may take, and what aborts it. */
export interface AgentRequestOptions {
  channel: Channel;
  timeoutMs: number;
  signal?: AbortSignal;
}


type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A resolver that consults the host map first (so tests and pre-flight can send real
 * host names to loopback) and the system resolver otherwise. Called for every new
 * connection, so a server that moved is found again on reconnect.
 */
export function mappedLookup(hostMap: Record<string, string>) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const mapped = hostMap[hostname.toLowerCase()];
    if (!mapped) {
      dnsLookup(hostname, options, callback as never);
      return;
    }
    const family = isIP(mapped) || 4;
    if (options.all) callback(null, [{ address: mapped, family }]);
    else callback(null, mapped, family);
  };
}

/**
 * HTTPS to the server with the pinned CA, the device certificate (mTLS) and secret,
 * through a proxy when configured. Every failure becomes a TetherError whose code says
 * which hop failed: SERVER_UNREACHABLE, CERT_PIN_MISMATCH, PROXY_REFUSED,
 * PROXY_AUTH_REQUIRED, or the server's own error code.
 */
export class AgentTransport {
  private readonly agents = new Map<Channel, https.Agent>();
  private readonly url: URL;
  private readonly lookup: ReturnType<typeof mappedLookup>;

  /** One TLS context (pinned CA, device certificate) for every connection this transport makes. */
  private readonly secureContext: SecureContext;
  /** The fixed proxy, when the setting names one. */
  private readonly fixedProxy: Extract<AgentProxy, { url: string }> | undefined;
  /** Chooses per connection in the pac and system modes. */
  private readonly resolver: ProxyResolver | undefined;
  /** The proxy the latest connection went through (pac and system modes), for error messages. */
  private chosen: Extract<ProxyRoute, { kind: 'proxy' }> | undefined;

  constructor(private readonly options: TransportOptions) {
    this.url = new URL(options.serverUrl);
    this.secureContext = createSecureContext({
      ca: options.serverCaPem,
      ...(options.identity ? { cert: options.identity.certificatePem, key: options.identity.privateKeyPem } : {}),
    });
    this.lookup = mappedLookup(Object.fromEntries(Object.entries(options.hostMap ?? {}).map(([k, v]) => [k.toLowerCase(), v])));
    const proxy = options.proxy;
    if (proxy && 'mode' in proxy) this.resolver = chosenProxyResolver(proxy, options.env ?? process.env);
    else this.fixedProxy = proxy;
  }

  get usesProxy(): boolean {
    if (this.resolver) return this.chosen !== undefined;
    return Boolean(this.fixedProxy) && !bypassesProxy(this.url.hostname, this.fixedProxy?.noProxy);
  }

  /** The agent protocol's JSON routes, by name (contract/http/agent-routes.ts): `api.call('poll', {}, body, options)`. */
  readonly api = new RouteClient<AgentRoutes, AgentRequestOptions>(AGENT_ROUTES, (request, opts) => {
    if (!opts) throw new TetherError('VALIDATION_FAILED', `${request.name} needs its channel and timeout`);
    return this.sendJson(request, opts);
  });

  private async sendJson(request: RouteRequest, opts: AgentRequestOptions): Promise<unknown> {
    const { path } = request;
    const payload = Buffer.from(JSON.stringify(request.body ?? {}));
    const { status, text, proxyStatus } = await this.send(request.method, path, payload, opts);
    if (proxyStatus !== undefined && proxyStatus !== 200) throw proxyRefusal(proxyStatus, this.proxyHost(), this.url.host, this.proxyAbout());
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = undefined;
    }
    if (status >= 400) {
      const error = parseErrorBody(json);
      if (error) throw new TetherError(error.error.code, error.error.message, error.error.details);
      throw new TetherError('SERVER_UNREACHABLE', `unexpected HTTP ${status} from ${this.url.host}`);
    }
    const parsed = request.response.safeParse(json);
    if (!parsed.success) throw new TetherError('VALIDATION_FAILED', `the server's answer to ${path} does not match the protocol`);
    return parsed.data;
  }

  /**
   * Options for a request on the `transfer` channel, made by the caller itself (chunk
   * downloads, tus uploads): the same pinned CA, device certificate and secret, proxy and
   * host map as every other request. `path` and `method` are the caller's.
   */
  transferRequestOptions(): https.RequestOptions & { secureContext: SecureContext } {
    return {
      protocol: 'https:',
      hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port || 443,
      agent: this.agentFor('transfer'),
      secureContext: this.secureContext,
      lookup: this.lookup as never,
      headers: this.options.identity ? { [DEVICE_SECRET_HEADER]: this.options.identity.deviceSecret } : {},
    };
  }

  /**
   * How a tunnel link reaches the relay, as every request here reaches the server: through
   * the fixed proxy (unless NO_PROXY exempts the host) or the one the pac or system setting
   * chooses for that URL, else directly; names through the host map either way.
   */
  tunnelRoute(): TunnelLinkRoute {
    const lookup = this.lookup as unknown as NonNullable<TunnelLinkRoute['lookup']>;
    const through = (proxy: { url: string; username?: string | undefined; password?: string | undefined }, about: { chosenBy?: string; advice?: string }): TunnelLinkAgent =>
      Object.assign(tunnellingAgent(proxyUrlWithCredentials(proxy), { lookup: this.lookup }), { proxyHost: new URL(proxy.url).host, proxyAbout: about });
    return {
      lookup,
      agentFor: async (url) => {
        if (this.resolver) {
          const route = await this.resolver.resolve(url);
          return route.kind === 'proxy' ? through(route, this.proxyAbout(route)) : undefined;
        }
        const fixed = this.fixedProxy;
        return fixed && !bypassesProxy(new URL(url).hostname.replace(/^\[|\]$/g, ''), fixed.noProxy) ? through(fixed, {}) : undefined;
      },
    };
  }

  /** The server's base URL, e.g. for upload URLs. */
  get serverUrl(): string {
    return this.url.origin;
  }

  /** A failure of a request made with `transferRequestOptions`, as the TetherError every other request gives. */
  describeError(err: Error & { code?: string }): TetherError {
    return this.describe(err);
  }

  /** Drops open connections; the next request connects (and resolves the name) afresh. */
  reset(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  close(): void {
    this.reset();
  }

  private agentFor(channel: Channel): https.Agent {
    let agent = this.agents.get(channel);
    if (agent) return agent;
    const common = {
      keepAlive: true,
      // two transfers may run at once on a device, each with one request at a time
      maxSockets: channel === 'transfer' ? 2 : 1,
      // the report and transfer channels close when idle; the poll channel is always busy
      timeout: channel === 'poll' ? 0 : 10_000,
    };
    if (this.resolver) {
      const resolver = this.resolver;
      agent = new RoutingAgent(common, (url) => resolver.resolve(url), this.lookup, (route) => {
        this.chosen = route.kind === 'proxy' ? route : undefined;
      }) as unknown as https.Agent;
    } else if (this.usesProxy && this.fixedProxy) {
      agent = tunnellingAgent(proxyUrlWithCredentials(this.fixedProxy), { ...common, lookup: this.lookup });
    } else {
      agent = new https.Agent(common);
    }
    this.agents.set(channel, agent);
    return agent;
  }

  private proxyHost(): string {
    const url = this.chosen?.url ?? this.fixedProxy?.url;
    return url ? new URL(url).host : '(none)';
  }

  /** Who chose the proxy that refused, and what to change on the device for a 407. */
  private proxyAbout(chosen = this.chosen): { chosenBy?: string; advice?: string } {
    if (!chosen) return {};
    const chosenBy = chosen.chosenBy === 'pac' ? 'the PAC script' : 'the HTTPS_PROXY environment variable';
    const hostPort = chosen.url.replace(/^[a-z]+:\/\//i, '');
    return {
      chosenBy,
      advice: chosen.username
        ? `the agent's sign-in for ${hostPort} (user "${chosen.username}") was not accepted`
        : `add a sign-in for ${hostPort} to the agent's proxy.signIns`,
    };
  }

  private send(
    method: string,
    path: string,
    payload: Buffer,
    opts: AgentRequestOptions,
  ): Promise<{ status: number; text: string; proxyStatus?: number }> {
    const identity = this.options.identity;
    return new Promise((resolve, reject) => {
      let proxyStatus: number | undefined;
      // secureContext is handed on to tls.connect (the RequestOptions type does not list it)
      const requestOptions: https.RequestOptions & { secureContext: SecureContext } = {
        protocol: 'https:',
        hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
        port: this.url.port || 443,
        path,
        method,
        agent: this.agentFor(opts.channel),
        secureContext: this.secureContext,
        lookup: this.lookup as never,
        headers: {
          'content-type': 'application/json',
          'content-length': payload.length,
          ...(identity ? { [DEVICE_SECRET_HEADER]: identity.deviceSecret } : {}),
        },
        ...(opts.signal ? { signal: opts.signal } : {}),
      };
      const req = https.request(
        requestOptions,
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ...(proxyStatus !== undefined ? { proxyStatus } : {}) }));
          res.on('error', (err) => reject(this.describe(err)));
        },
      );
      req.on('proxyConnect', (connect: { statusCode: number }) => {
        proxyStatus = connect.statusCode;
      });
      req.setTimeout(opts.timeoutMs, () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(this.describe(err)));
      req.end(payload);
    });
  }

  private describe(err: Error & { code?: string }): TetherError {
    // the proxy resolver's own refusals (a PAC script that fails or never answers)
    if (err instanceof TetherError) return err;
    if (err.name === 'AbortError' || err.code === 'ABORT_ERR') return new TetherError('SERVER_UNREACHABLE', 'request aborted');
    return describeConnectionError(err, { host: this.url.host, proxyHost: this.usesProxy ? this.proxyHost() : undefined });
  }

}

/** The pac or system setting as a resolver: the environment stands for the device's system proxy. */
function chosenProxyResolver(proxy: ChosenProxy, env: NodeJS.ProcessEnv): ProxyResolver {
  return new ProxyResolver({
    settings: () => proxy,
    password: () => undefined,
    system: environmentProxyLookup(env),
    signInPassword: (hostPort) => proxy.signIns?.find((s) => s.proxy === hostPort)?.password,
  });
}

function proxyUrlWithCredentials(proxy: { url: string; username?: string | undefined; password?: string | undefined }): URL {
  const url = new URL(proxy.url);
  if (proxy.username) url.username = encodeURIComponent(proxy.username);
  if (proxy.password) url.password = encodeURIComponent(proxy.password);
  return url;
}

function tunnellingAgent(proxyUrl: URL, options: https.AgentOptions & { lookup: ReturnType<typeof mappedLookup> }): https.Agent {
  return new HttpsProxyAgent(proxyUrl, options as ConstructorParameters<typeof HttpsProxyAgent>[1]) as unknown as https.Agent;
}

/**
 * Asks the resolver at every new connection and goes direct or through the proxy it
 * names with CONNECT (one tunnelling agent kept per proxy). The request's own options
 * (pinned CA and device certificate, host map) apply to the TLS session either way.
 */
class RoutingAgent extends ConnectingAgent {
  private readonly tunnels = new Map<string, https.Agent>();

  constructor(
    options: https.AgentOptions,
    private readonly resolve: (url: string) => Promise<ProxyRoute>,
    private readonly lookup: ReturnType<typeof mappedLookup>,
    private readonly onRoute: (route: ProxyRoute) => void,
  ) {
    super(options);
  }

  async connect(req: http.ClientRequest, opts: AgentConnectOpts) {
    const host = opts.host ?? 'localhost';
    const route = await this.resolve(`https://${host.includes(':') ? `[${host}]` : host}:${opts.port}/`);
    this.onRoute(route);
    if (route.kind === 'direct') {
      // `path` here is the request's path; tls.connect would take it for a local socket
      const { path: _requestPath, ...socketOpts } = opts as AgentConnectOpts & { path?: string };
      return tls.connect({ ...socketOpts, ...(isIP(host) === 0 ? { servername: host } : {}) } as tls.ConnectionOptions);
    }
    const url = proxyUrlWithCredentials(route);
    let tunnel = this.tunnels.get(url.href);
    if (!tunnel) {
      tunnel = tunnellingAgent(url, { lookup: this.lookup });
      this.tunnels.set(url.href, tunnel);
    }
    return (tunnel as unknown as HttpsProxyAgent<string>).connect(req, opts);
  }

  override destroy(): void {
    for (const tunnel of this.tunnels.values()) tunnel.destroy();
    this.tunnels.clear();
    super.destroy();
  }
}
