import { TetherError } from '#contract/errors';
import type { CheckProblem } from '#contract/preflight';
import { ProxyResolver, type ProxyRoute, type SystemProxyLookup, proxyKey } from '#node-lib/proxy-resolver';
import type { ProxySettings, ProxySignIn, ProxyState, ProxyTestResult } from '#contract/proxy';
import type { HandlerSlice } from '../dispatch.ts';
import { proxyChooser, proxySignInAdvice } from './proxy-advice.ts';
import { probeTarget } from './preflight/probe.ts';
import { authority, proxyEndpoint } from './preflight/proxy-tunnel.ts';
import { TrustStore } from './preflight/trust.ts';
import type { SettingsStore } from './settings.ts';
import type { SecretVault } from './vault.ts';

/** The vault key of the console-wide manual proxy's password (profiles keep their own). */
export const CONSOLE_PROXY_SECRET = 'proxy-password:console';

/** The vault key of the password for a proxy that PAC or the system chooses (`host:port`). */
export const signInSecretKey = (proxy: string): string => `proxy-sign-in:${proxyKey(proxy)}`;

const signInsOf = (settings: ProxySettings): readonly ProxySignIn[] => (settings.mode === 'pac' || settings.mode === 'system' ? (settings.signIns ?? []) : []);

export interface ProxyServiceDeps {
  settings: SettingsStore;
  vault: SecretVault;
  /** Electron's session.resolveProxy, or the environment in browser mode. */
  system: SystemProxyLookup;
  systemSource: ProxyState['systemSource'];
  /** The server the console is signed in to: what a test checks when given no URL. */
  server: () => { url: string } | null;
  /** A test's connection must finish within this (default 10 s). */
  timeoutMs?: number;
}

/** Problems whose fault is the server behind the proxy, not the proxy itself. */
const TARGET_PROBLEMS: ReadonlySet<CheckProblem['kind']> = new Set(['proxy-target-failed', 'dns-failed', 'dns-timeout', 'tcp-refused', 'tcp-timeout', 'tcp-unreachable', 'tcp-failed']);

/**
 * The console-wide proxy setting: kept in settings (password in the vault), resolved per
 * connection by `resolver`, and tested with the pre-flight engine's CONNECT probe.
 */
export class ProxyService {
  readonly resolver: ProxyResolver;

  constructor(private readonly deps: ProxyServiceDeps) {
    this.resolver = new ProxyResolver({
      settings: () => deps.settings.get().proxy,
      password: () => deps.vault.get(CONSOLE_PROXY_SECRET),
      signInPassword: (proxy) => deps.vault.get(signInSecretKey(proxy)),
      system: deps.system,
    });
  }

  /** The console's manual proxy with its vault password, for pre-flight runs through it; null in other modes. */
  manualProxy(): { url: string; username?: string; password?: string } | null {
    const settings = this.deps.settings.get().proxy;
    if (settings.mode !== 'manual') return null;
    const password = this.deps.vault.get(CONSOLE_PROXY_SECRET);
    return { url: settings.url, ...(settings.username ? { username: settings.username } : {}), ...(password ? { password } : {}) };
  }

  readonly handlers: HandlerSlice<'proxy.'> = {
    'proxy.get': () => this.state(),
    'proxy.set': ({ settings, password, signInPasswords }) => {
      const kept = new Set(signInsOf(settings).map((s) => proxyKey(s.proxy)));
      const unknown = Object.keys(signInPasswords ?? {}).find((proxy) => !kept.has(proxyKey(proxy)));
      if (unknown) throw new TetherError('VALIDATION_FAILED', `a password was given for ${unknown}, which has no sign-in (add its user name first)`);
      const dropped = signInsOf(this.deps.settings.get().proxy).filter((s) => !kept.has(proxyKey(s.proxy)));
      this.deps.settings.update((s) => ({ ...s, proxy: settings }));
      // a password is kept only while a manual proxy may use it
      if (settings.mode !== 'manual' || password === null) this.deps.vault.delete(CONSOLE_PROXY_SECRET);
      else if (password) this.deps.vault.set(CONSOLE_PROXY_SECRET, password);
      // a sign-in's password lives as long as its sign-in
      for (const signIn of dropped) this.deps.vault.delete(signInSecretKey(signIn.proxy));
      for (const [proxy, secret] of Object.entries(signInPasswords ?? {})) {
        if (secret === null) this.deps.vault.delete(signInSecretKey(proxy));
        else this.deps.vault.set(signInSecretKey(proxy), secret);
      }
      this.resolver.invalidate();
      return this.state();
    },
    'proxy.test': async ({ url }) => this.test(url),
  };

  private state(): ProxyState {
    const settings = this.deps.settings.get().proxy;
    return {
      settings,
      hasPassword: this.deps.vault.get(CONSOLE_PROXY_SECRET) !== undefined,
      signInPasswords: signInsOf(settings)
        .filter((s) => this.deps.vault.get(signInSecretKey(s.proxy)) !== undefined)
        .map((s) => s.proxy),
      systemSource: this.deps.systemSource,
    };
  }

  private async test(url: string | undefined): Promise<ProxyTestResult> {
    const targetUrl = url ?? this.deps.server()?.url;
    if (!targetUrl) throw new TetherError('VALIDATION_FAILED', 'sign in to a server first, or give the address to test');
    const parsed = new URL(targetUrl);
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'http:' ? 80 : 443;
    const settings: ProxySettings = this.deps.settings.get().proxy;
    const base = { target: authority(host, port), mode: settings.mode };
    let route: ProxyRoute;
    try {
      route = await this.resolver.resolve(`${parsed.protocol}//${parsed.host}/`);
    } catch (err) {
      if (!(err instanceof TetherError)) throw err;
      return { ...base, route: null, ok: false, failedHop: 'pac', message: err.message, problem: null };
    }
    let proxy = null;
    if (route.kind === 'proxy') {
      try {
        proxy = proxyEndpoint(route);
      } catch (err) {
        if (!(err instanceof TetherError)) throw err;
        return { ...base, route: route.url, ok: false, failedHop: 'proxy', message: `this proxy cannot be tested here: ${err.message}`, problem: null };
      }
    }
    const row = await probeTarget(
      { host, port, protocol: 'tcp', need: 'required', fallbackPort: null },
      { hostMap: [], proxy, trust: new TrustStore([], { systemRoots: false }), timeoutMs: this.deps.timeoutMs ?? 10_000 },
    );
    const shown = route.kind === 'direct' ? 'DIRECT' : route.url;
    if (!row.problem) {
      const message = route.kind === 'direct' ? `connected directly to ${base.target}` : `the proxy ${route.url} opened a tunnel to ${base.target}`;
      return { ...base, route: shown, ok: true, failedHop: null, message, problem: null };
    }
    const failedHop = route.kind === 'direct' || TARGET_PROBLEMS.has(row.problem.kind) ? 'target' : 'proxy';
    let message = row.problem.detail;
    if (route.kind === 'proxy' && row.problem.kind === 'proxy-auth-required') {
      const chooser = proxyChooser(route);
      message = `${chooser ? `the proxy ${route.url} was chosen by ${chooser}; ` : ''}${message} — ${proxySignInAdvice(route)}`;
    }
    return { ...base, route: shown, ok: false, failedHop, message, problem: row.problem };
  }
}
