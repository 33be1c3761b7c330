import type http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import tls from 'node:tls';
import { Agent, type AgentConnectOpts } from 'agent-base';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { ProxyRoute } from '#node-lib/proxy-resolver';
import { proxyChooser, proxySignInAdvice } from './proxy-advice.ts';

/** How the console reaches one server: pinned CA (or the system store) and an optional proxy. */
export interface ServerTarget {
  url: string;
  /** The CA the connection pins; null trusts the system store. */
  caPem: string | null;
  /** The server profile's own proxy: it overrides the console-wide setting. */
  proxy?: { url: string; username?: string | undefined; password?: string | undefined } | undefined;
  /** The console-wide proxy setting, asked per new connection (see ProxyResolver). */
  resolveProxy?: ((url: string) => Promise<ProxyRoute>) | undefined;
}

/** What an agent built here can say about the proxy its last connection went through. */
export interface ProxyAwareAgent {
  /** `host:port` of the proxy the latest connection used; undefined when direct. */
  readonly proxyHost: string | undefined;
  /** For a proxy from the console-wide setting: who chose it, and what to do when it answers 407. */
  readonly proxyAbout?: { chosenBy: string | undefined; advice: string } | undefined;
}

/**
 * An HTTPS agent for a target: keep-alive, the pinned CA (no other issuer is accepted),
 * through the proxy with CONNECT when one is set. TLS stays end to end either way.
 */
export function createHttpsAgent(target: ServerTarget): https.Agent & ProxyAwareAgent {
  const tlsOptions = target.caPem ? { ca: target.caPem } : {};
  if (target.proxy) return new PinnedProxyAgent(proxyUrlWithCredentials(target.proxy), tlsOptions) as unknown as https.Agent & ProxyAwareAgent;
  if (target.resolveProxy) return new ResolvingAgent(target.resolveProxy, tlsOptions) as unknown as https.Agent & ProxyAwareAgent;
  return Object.assign(new https.Agent({ keepAlive: true, maxSockets: 8, ...tlsOptions }), { proxyHost: undefined });
}

function proxyUrlWithCredentials(proxy: { url: string; username?: string | undefined; password?: string | undefined }): URL {
  const url = new URL(proxy.url);
  if (proxy.username) url.username = encodeURIComponent(proxy.username);
  if (proxy.password) url.password = encodeURIComponent(proxy.password);
  return url;
}

/**
 * HttpsProxyAgent applies constructor TLS options to the hop to the proxy only; the TLS
 * session to the server inside the tunnel takes its options per connection. This agent
 * adds the pinned CA there, so a proxy never widens trust to the system's public CAs.
 */
class PinnedProxyAgent extends HttpsProxyAgent<string> implements ProxyAwareAgent {
  readonly proxyHost: string;

  constructor(
    proxy: URL,
    private readonly serverTls: { ca?: string },
  ) {
    super(proxy.href, { keepAlive: true, maxSockets: 8 });
    this.proxyHost = proxy.host;
  }

  override connect(req: Parameters<HttpsProxyAgent<string>['connect']>[0], opts: Parameters<HttpsProxyAgent<string>['connect']>[1]) {
    return super.connect(req, { ...opts, ...this.serverTls });
  }
}

/**
 * Asks the resolver for every new connection and goes direct or through the proxy it
 * names (one tunnelling agent kept per proxy). Pooled keep-alive sockets keep the route
 * they were opened on until they close.
 */
class ResolvingAgent extends Agent implements ProxyAwareAgent {
  proxyHost: string | undefined;
  proxyAbout: ProxyAwareAgent['proxyAbout'];
  private readonly tunnels = new Map<string, PinnedProxyAgent>();

  constructor(
    private readonly resolveProxy: (url: string) => Promise<ProxyRoute>,
    private readonly serverTls: { ca?: string },
  ) {
    super({ keepAlive: true, maxSockets: 8 });
  }

  async connect(req: http.ClientRequest, opts: AgentConnectOpts) {
    const host = opts.host ?? 'localhost';
    const route = await this.resolveProxy(`https://${host.includes(':') ? `[${host}]` : host}:${opts.port}/`);
    if (route.kind === 'direct') {
      this.proxyHost = undefined;
      this.proxyAbout = undefined;
      // `path` here is the request's path; tls.connect would take it for a local socket
      const { path: _requestPath, ...socketOpts } = opts as AgentConnectOpts & { path?: string };
      return tls.connect({ ...socketOpts, ...this.serverTls, ...(!(opts.secureEndpoint && opts.servername) && isIP(host) === 0 ? { servername: host } : {}) } as tls.ConnectionOptions);
    }
    const url = proxyUrlWithCredentials(route);
    let tunnel = this.tunnels.get(url.href);
    if (!tunnel) {
      tunnel = new PinnedProxyAgent(url, this.serverTls);
      this.tunnels.set(url.href, tunnel);
    }
    this.proxyHost = tunnel.proxyHost;
    this.proxyAbout = { chosenBy: proxyChooser(route), advice: proxySignInAdvice(route) };
    return tunnel.connect(req, opts);
  }

  override destroy(): void {
    for (const tunnel of this.tunnels.values()) tunnel.destroy();
    this.tunnels.clear();
    super.destroy();
  }
}
