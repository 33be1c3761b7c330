import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type QuickJSWASMModule, getQuickJS } from '@tootallnate/quickjs-emscripten';
import { createPacResolver } from 'pac-resolver';
import { TetherError } from '#contract/errors';
import type { ProxySettings, ProxySignIn } from '#contract/proxy';

/**
 * Which proxy for a URL, from proxy settings of the shape in contract/proxy.ts: the
 * console and the agent both resolve with this (the console adds its vault, the agent its
 * configuration file). Node only; PAC scripts run in QuickJS, never in Node's own engine.
 */

/** Who chose a proxy: the user (manual), the PAC script, or the system's settings. */
export type ProxyChooser = 'manual' | 'pac' | 'system';

/** Where one request goes: straight to the server, or through a proxy with CONNECT. */
export type ProxyRoute =
  | { kind: 'direct' }
  | {
      kind: 'proxy';
      /** `http(s)://host:port`, without credentials (safe to show). */
      url: string;
      chosenBy: ProxyChooser;
      username?: string | undefined;
      password?: string | undefined;
    };

/** The system's answer for a URL, in PAC form ("PROXY h:p; DIRECT"): Electron's session.resolveProxy, or the environment. */
export type SystemProxyLookup = (url: string) => Promise<string>;

export interface ProxyResolverDeps {
  settings: () => ProxySettings;
  /** The manual proxy's password (the console's vault, the agent's configuration). */
  password: () => string | undefined;
  system: SystemProxyLookup;
  /**
   * The password kept for a proxy that PAC or the system chose (`host:port` as the
   * settings' `signIns` name it); the user name is in the settings.
   */
  signInPassword?: (proxy: string) => string | undefined;
  /** How long a fetched PAC script is reused (default 5 minutes). */
  pacTtlMs?: number;
  /** How long one PAC evaluation may run (default 1 s). */
  pacTimeoutMs?: number;
}

type FindProxyForURL = (url: string) => Promise<string>;

const PAC_MAX_BYTES = 1024 * 1024;
const PAC_FETCH_TIMEOUT_MS = 10_000;
/** A PAC script answers in microseconds; one that runs for a second is stuck, and it runs on the caller's thread. */
export const DEFAULT_PAC_TIMEOUT_MS = 1000;
const PAC_MEMORY_BYTES = 32 * 1024 * 1024;

/**
 * Answers "which proxy for this URL" from proxy settings. The console's server connection
 * asks it per new connection, so REST calls, the live socket, tus uploads and Range
 * downloads all follow the same answer; the agent's transport does the same.
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
        return { kind: 'proxy', url: new URL(settings.url).origin, chosenBy: 'manual', username: settings.username, password };
      }
      case 'system':
        return this.withSignIn(firstUsableRoute(await this.deps.system(url), 'the system proxy settings', 'system'), settings.signIns);
      case 'pac': {
        const find = await this.pacFor(settings.pacUrl);
        let answer: string;
        try {
          answer = await find(url);
        } catch (err) {
          if (err instanceof TetherError) throw err;
          throw new TetherError('CONFIG_INVALID', `the PAC script at ${settings.pacUrl} failed for ${new URL(url).host}: ${(err as Error).message}`);
        }
        return this.withSignIn(firstUsableRoute(answer, `the PAC script at ${settings.pacUrl}`, 'pac'), settings.signIns);
      }
    }
  }

  /** Forgets the cached PAC script (settings changed, or the user asked to reload). */
  invalidate(): void {
    this.pac = undefined;
  }

  /** Adds the sign-in kept for the chosen proxy, if any: a proxy the user never named gets no credentials. */
  private withSignIn(route: ProxyRoute, signIns: readonly ProxySignIn[] | undefined): ProxyRoute {
    if (route.kind === 'direct') return route;
    const key = proxyKey(route.url);
    const signIn = signIns?.find((s) => proxyKey(s.proxy) === key);
    if (!signIn) return route;
    return { ...route, username: signIn.username, password: this.deps.signInPassword?.(signIn.proxy) };
  }

  private pacFor(pacUrl: string): Promise<FindProxyForURL> {
    const ttl = this.deps.pacTtlMs ?? 5 * 60_000;
    if (this.pac && this.pac.url === pacUrl && Date.now() - this.pac.loadedAt < ttl) return this.pac.find;
    const find = loadPac(pacUrl, this.deps.pacTimeoutMs ?? DEFAULT_PAC_TIMEOUT_MS);
    const entry = { url: pacUrl, loadedAt: Date.now(), find };
    this.pac = entry;
    // a failed load is not cached — the next request tries again — unless the script ran
    // out of time: trying again would cost every connection the whole timeout
    find.catch((err: unknown) => {
      if (this.pac === entry && !isPacTimeout(err)) this.pac = undefined;
    });
    return find;
  }
}

function isPacTimeout(err: unknown): boolean {
  return err instanceof TetherError && err.details?.pac === 'timeout';
}

/** `host:port` of a proxy as settings and PAC answers name it, compared without case (`http://` and `[` `]` kept as given). */
export function proxyKey(proxy: string): string {
  return proxy
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/$/, '')
    .toLowerCase();
}

/** Fetches and compiles a PAC script; it runs in QuickJS, bounded in time and memory. */
async function loadPac(pacUrl: string, timeoutMs: number): Promise<FindProxyForURL> {
  const text = await fetchPac(pacUrl);
  return compilePac(pacUrl, text, timeoutMs, await getQuickJS());
}

/**
 * A PAC script runs synchronously on the caller's thread (QuickJS inside WebAssembly), so
 * a script that never returns would freeze the console or the agent: QuickJS's interrupt
 * handler stops it at the deadline. A script that ran out of time once is refused from
 * then on without running again, until it is fetched anew (settings change, or the cache
 * expires) — each retry would cost the caller the whole timeout.
 */
function compilePac(pacUrl: string, text: string, timeoutMs: number, qjs: QuickJSWASMModule): FindProxyForURL {
  let deadline = Number.POSITIVE_INFINITY;
  let stuck: TetherError | undefined;
  const bounded = Object.create(qjs) as QuickJSWASMModule;
  bounded.newContext = (options) => {
    const vm = qjs.newContext(options);
    vm.runtime.setInterruptHandler(() => performance.now() > deadline);
    vm.runtime.setMemoryLimit(PAC_MEMORY_BYTES);
    return vm;
  };
  const timedOut = (what: string): TetherError => {
    // whatever the script still has pending is stopped at its next step
    deadline = Number.NEGATIVE_INFINITY;
    stuck = new TetherError(
      'CONFIG_INVALID',
      `the PAC script at ${pacUrl} did not finish ${what} within ${timeoutMs} ms (a loop that never ends?); it is not used until it is fixed`,
      { pac: 'timeout', timeoutMs },
    );
    return stuck;
  };

  let find: ReturnType<typeof createPacResolver>;
  deadline = performance.now() + timeoutMs;
  try {
    find = createPacResolver(bounded, text, { filename: pacUrl });
  } catch (err) {
    if (performance.now() > deadline) throw timedOut('loading');
    throw new TetherError('CONFIG_INVALID', `the PAC script at ${pacUrl} is not valid: ${(err as Error).message}`);
  } finally {
    if (!stuck) deadline = Number.POSITIVE_INFINITY;
  }

  // one evaluation at a time: the deadline belongs to the QuickJS runtime, not to a call
  let queue: Promise<unknown> = Promise.resolve();
  return (url) => {
    const run = queue.then(async () => {
      if (stuck) throw stuck;
      const host = new URL(url).host;
      deadline = performance.now() + timeoutMs;
      let timer: NodeJS.Timeout | undefined;
      // the script may wait on an asynchronous helper (dnsResolve); the host-side timer bounds that wait
      const overtime = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut(`for ${host}`)), timeoutMs);
      });
      try {
        return await Promise.race([find(url), overtime]);
      } catch (err) {
        if (stuck) throw stuck;
        if (performance.now() > deadline) throw timedOut(`for ${host}`);
        throw err;
      } finally {
        clearTimeout(timer);
        if (!stuck) deadline = Number.POSITIVE_INFINITY;
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };
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
 * The first entry of a PAC answer this program can use: DIRECT, PROXY host:port (HTTP) or
 * HTTPS host:port. SOCKS entries are skipped; an answer with nothing usable is refused.
 */
export function firstUsableRoute(answer: string, source: string, chosenBy: ProxyChooser = 'pac'): ProxyRoute {
  for (const entry of answer.split(';')) {
    const [type = '', where = ''] = entry.trim().split(/\s+/);
    const kind = type.toUpperCase();
    if (kind === 'DIRECT') return { kind: 'direct' };
    if ((kind === 'PROXY' || kind === 'HTTPS') && /^[^\s/]+:\d{1,5}$/.test(where)) {
      return { kind: 'proxy', url: `${kind === 'HTTPS' ? 'https' : 'http'}://${where}`, chosenBy };
    }
  }
  throw new TetherError('CONFIG_INVALID', `${source} answered "${answer.trim()}", which names no usable proxy (DIRECT, PROXY host:port or HTTPS host:port)`);
}

/**
 * "System proxy" without Electron: HTTPS_PROXY / https_proxy and NO_PROXY, as command-line
 * tools read them (the console in browser mode, and the agent on its device).
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
