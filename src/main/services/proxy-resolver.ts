import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { getQuickJS } from '@tootallnate/quickjs-emscripten';
import { createPacResolver } from 'pac-resolver';
import { TetherError } from '../../shared/errors.ts';
import type { ProxySettings } from '../../shared/proxy.ts';

/** Where one request goes: straight to the server, or through a proxy with CONNECT. */
export type ProxyRoute =
  | { kind: 'direct' }
  | {
      kind: 'proxy';
      /** `http(s)://host:port`, without credentials (safe to show). */
      url: string;
      username?: string | undefined;
      password?: string | undefined;
    };

/** The system's answer for a URL, in PAC form ("PROXY h:p; DIRECT"): Electron's session.resolveProxy, or the environment. */
export type SystemProxyLookup = (url: string) => Promise<string>;

export interface ProxyResolverDeps {
  settings: () => ProxySettings;
  /** The manual proxy's password, from the vault. */
  password: () => string | undefined;
  system: SystemProxyLookup;
  /** How long a fetched PAC script is reused (default 5 minutes). */
  pacTtlMs?: number;
}

type FindProxyForURL = (url: string) => Promise<string>;

const PAC_MAX_BYTES = 1024 * 1024;
const PAC_FETCH_TIMEOUT_MS = 10_000;

/**
 * Answers "which proxy for this URL" from the console's proxy settings. The server
 * connection's agent asks it per new connection, so REST calls, the live socket, tus
 * uploads and Range downloads all follow the same answer.
 */
export class ProxyResolver {
  private pac: { url: string; loadedAt: number; find: Promise<FindProxyForURL> } | undefined;

  constructor(private readonly deps: ProxyResolverDeps) {}

  async resolve(url: string): Promise<ProxyRoute> {
    const settings = this.deps.settings();
    switch (settings.mode) {
      case 'none':
        return { kind: 'direct' };
      case 'manual': {
        const password = this.deps.password();
        return { kind: 'proxy', url: new URL(settings.url).origin, username: settings.username, password };
      }
      case 'system':
        return firstUsableRoute(await this.deps.system(url), 'the system proxy settings');
      case 'pac': {
        const find = await this.pacFor(settings.pacUrl);
        let answer: string;
        try {
          answer = await find(url);
        } catch (err) {
          throw new TetherError('CONFIG_INVALID', `the PAC script at ${settings.pacUrl} failed for ${new URL(url).host}: ${(err as Error).message}`);
        }
        return firstUsableRoute(answer, `the PAC script at ${settings.pacUrl}`);
      }
    }
  }

  /** Forgets the cached PAC script (settings changed, or the user asked to reload). */
  invalidate(): void {
    this.pac = undefined;
  }

  private pacFor(pacUrl: string): Promise<FindProxyForURL> {
    const ttl = this.deps.pacTtlMs ?? 5 * 60_000;
    if (this.pac && this.pac.url === pacUrl && Date.now() - this.pac.loadedAt < ttl) return this.pac.find;
    const find = loadPac(pacUrl);
    const entry = { url: pacUrl, loadedAt: Date.now(), find };
    this.pac = entry;
    // a failed load is not cached: the next request tries again
    find.catch(() => {
      if (this.pac === entry) this.pac = undefined;
    });
    return find;
  }
}

/** Fetches and compiles a PAC script; it runs in QuickJS, never in the main process's own engine. */
async function loadPac(pacUrl: string): Promise<FindProxyForURL> {
  const text = await fetchPac(pacUrl);
  const qjs = await getQuickJS();
  let find: ReturnType<typeof createPacResolver>;
  try {
    find = createPacResolver(qjs, text, { filename: pacUrl });
  } catch (err) {
    throw new TetherError('CONFIG_INVALID', `the PAC script at ${pacUrl} is not valid: ${(err as Error).message}`);
  }
  return (url) => find(url);
}

async function fetchPac(pacUrl: string): Promise<string> {
  const url = new URL(pacUrl);
  let text: string;
  try {
    if (url.protocol === 'file:') {
      text = await readFile(fileURLToPath(url), 'utf8');
    } else {
      const response = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(PAC_FETCH_TIMEOUT_MS) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      text = await response.text();
    }
  } catch (err) {
    throw new TetherError('CONFIG_INVALID', `cannot load the PAC script at ${pacUrl}: ${(err as Error).message}`);
  }
  if (Buffer.byteLength(text) > PAC_MAX_BYTES) throw new TetherError('CONFIG_INVALID', `the PAC script at ${pacUrl} is larger than 1 MiB`);
  if (!/FindProxyForURL/.test(text)) throw new TetherError('CONFIG_INVALID', `${pacUrl} is not a PAC script (no FindProxyForURL function)`);
  return text;
}

/**
 * The first entry of a PAC answer this console can use: DIRECT, PROXY host:port (HTTP) or
 * HTTPS host:port. SOCKS entries are skipped; an answer with nothing usable is refused.
 */
export function firstUsableRoute(answer: string, source: string): ProxyRoute {
  for (const entry of answer.split(';')) {
    const [type = '', where = ''] = entry.trim().split(/\s+/);
    const kind = type.toUpperCase();
    if (kind === 'DIRECT') return { kind: 'direct' };
    if ((kind === 'PROXY' || kind === 'HTTPS') && /^[^\s/]+:\d{1,5}$/.test(where)) {
      return { kind: 'proxy', url: `${kind === 'HTTPS' ? 'https' : 'http'}://${where}` };
    }
  }
  throw new TetherError('CONFIG_INVALID', `${source} answered "${answer.trim()}", which names no usable proxy (DIRECT, PROXY host:port or HTTPS host:port)`);
}

/**
 * "System proxy" without Electron: HTTPS_PROXY / https_proxy and NO_PROXY, as command-line
 * tools read them.
 */
export function environmentProxyLookup(env: NodeJS.ProcessEnv): SystemProxyLookup {
  return (target) => {
    const proxy = env.HTTPS_PROXY || env.https_proxy;
    if (!proxy) return Promise.resolve('DIRECT');
    const { hostname, port } = new URL(target);
    if (bypassed(hostname.replace(/^\[|\]$/g, ''), port, env.NO_PROXY || env.no_proxy)) return Promise.resolve('DIRECT');
    let url: URL;
    try {
      url = new URL(proxy);
    } catch {
      return Promise.reject(new TetherError('CONFIG_INVALID', `HTTPS_PROXY is not a URL: "${proxy}"`));
    }
    const hostPort = `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
    return Promise.resolve(`${url.protocol === 'https:' ? 'HTTPS' : 'PROXY'} ${hostPort}`);
  };
}

/** NO_PROXY: comma list of names (a leading dot or `*.` for subdomains), `name:port`, or `*`. */
function bypassed(host: string, port: string, noProxy: string | undefined): boolean {
  if (!noProxy) return false;
  return noProxy
    .split(/[,\s]+/)
    .filter(Boolean)
    .some((raw) => {
      if (raw === '*') return true;
      const [name = '', onlyPort] = raw.toLowerCase().split(/:(?=\d+$)/);
      if (onlyPort && onlyPort !== port) return false;
      const bare = name.replace(/^\*?\./, '');
      const h = host.toLowerCase();
      return h === bare || h.endsWith(`.${bare}`);
    });
}
