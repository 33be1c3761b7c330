import https from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';

/** How the console reaches one server: pinned CA (or the system store) and an optional proxy. */
export interface ServerTarget {
  url: string;
  /** The CA the connection pins; null trusts the system store. */
  caPem: string | null;
  proxy?: { url: string; username?: string | undefined; password?: string | undefined } | undefined;
}

/**
 * An HTTPS agent for a target: keep-alive, the pinned CA (no other issuer is accepted),
 * through the proxy with CONNECT when one is set. TLS stays end to end either way.
 */
export function createHttpsAgent(target: ServerTarget): https.Agent {
  const tls = target.caPem ? { ca: target.caPem } : {};
  if (!target.proxy) return new https.Agent({ keepAlive: true, maxSockets: 8, ...tls });
  const proxyUrl = new URL(target.proxy.url);
  if (target.proxy.username) proxyUrl.username = encodeURIComponent(target.proxy.username);
  if (target.proxy.password) proxyUrl.password = encodeURIComponent(target.proxy.password);
  return new PinnedProxyAgent(proxyUrl, tls) as unknown as https.Agent;
}

/**
 * HttpsProxyAgent applies constructor TLS options to the hop to the proxy only; the TLS
 * session to the server inside the tunnel takes its options per connection. This agent
 * adds the pinned CA there, so a proxy never widens trust to the system's public CAs.
 */
class PinnedProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: URL,
    private readonly serverTls: { ca?: string },
  ) {
    super(proxy.href, { keepAlive: true, maxSockets: 8 });
  }

  override connect(req: Parameters<HttpsProxyAgent<string>['connect']>[0], opts: Parameters<HttpsProxyAgent<string>['connect']>[1]) {
    return super.connect(req, { ...opts, ...this.serverTls });
  }
}

export function proxyHostOf(target: ServerTarget): string | undefined {
  return target.proxy ? new URL(target.proxy.url).host : undefined;
}
