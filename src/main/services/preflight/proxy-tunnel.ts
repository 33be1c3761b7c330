import { TetherError } from '#contract/errors';

/** The proxy a check goes through: the console's manual proxy settings have this shape. */
export interface PreflightProxy {
  /** `http://host:port`; credentials may be in the URL or given separately. */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
}

/** A proxy ready to dial: where it is, how to authenticate, and how to name it without secrets. */
export interface ProxyEndpoint {
  host: string;
  port: number;
  /** `Proxy-Authorization` value, when there are credentials. */
  authorization: string | null;
  /** The URL without credentials, for reports. */
  displayUrl: string;
}

/** Checks the proxy settings once, before any probe. Only plain-HTTP proxies speak CONNECT here. */
export function proxyEndpoint(proxy: PreflightProxy): ProxyEndpoint {
  let url: URL;
  try {
    url = new URL(proxy.url);
  } catch {
    throw new TetherError('VALIDATION_FAILED', `not a proxy URL: "${proxy.url}" (write http://host:port)`);
  }
  if (url.protocol !== 'http:') throw new TetherError('VALIDATION_FAILED', `the proxy URL must start with http:// (got ${url.protocol}//); CONNECT goes to the proxy in clear`);
  if (url.pathname !== '/' || url.search || url.hash) throw new TetherError('VALIDATION_FAILED', `the proxy URL is only http://host:port, not "${proxy.url}"`);
  const username = proxy.username ?? decodeURIComponent(url.username);
  const password = proxy.password ?? decodeURIComponent(url.password);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : 80;
  return {
    host,
    port,
    authorization: username || password ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` : null,
    displayUrl: `http://${url.host}`,
  };
}

/** The CONNECT request for `target` (`host:port`, IPv6 in brackets). */
export function connectRequest(target: string, authorization: string | null): string {
  return [
    `CONNECT ${target} HTTP/1.1`,
    `Host: ${target}`,
    'User-Agent: tether-preflight',
    ...(authorization ? [`Proxy-Authorization: ${authorization}`] : []),
    '',
    '',
  ].join('\r\n');
}

/** `host:port` as a request line writes it. */
export function authority(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
