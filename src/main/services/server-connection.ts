import axios, { type AxiosInstance } from 'axios';
import type https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { TetherError, parseErrorBody } from '#contract/errors';
import { API_ROUTES, type ApiRoutes } from '#contract/http/api-routes';
import { RouteClient, type RouteRequest } from '#contract/http/client';
import type { RouteParams } from '#contract/http/route';
import { describeConnectionError, proxyRefusal } from '#node-lib/connection-errors';
import type { LoginResponse, TokenPair } from '#contract/api/auth';
import type { LiveEvent } from '#contract/api/live';
import type { ConnectionState } from '#contract/ipc';
import { type ProxyAwareAgent, type ServerTarget, createHttpsAgent } from './http-agent.ts';
import { LiveConnection } from './live-connection.ts';

export interface ServerConnectionOptions {
  /** A new refresh token to keep (or undefined when the session ended), for the vault. */
  onRefreshToken?: (token: string | undefined) => void;
  onLiveEvent?: (event: LiveEvent) => void;
  onConnectionState?: (state: ConnectionState) => void;
  /** The server ended the session; the console must sign in again. */
  onSessionEnded?: (error: TetherError) => void;
  requestTimeoutMs?: number;
  liveBackoff?: { baseMs: number; maxMs: number };
  keepaliveMs?: number;
}

/** What a console call may set beyond the route's own input. */
export interface ApiCallOptions {
  /** Longer than the connection's default, for calls the server holds (a device listing a folder). */
  timeoutMs?: number;
}

/** The console API by route name (contract/http/api-routes.ts), signed in. */
export type ConsoleApi = RouteClient<ApiRoutes, ApiCallOptions>;

/**
 * The console's link to one Tether server: REST over axios with the profile's pinned CA
 * and proxy, an access token refreshed before it lapses (one refresh at a time — the
 * server treats a reused refresh token as theft), and the live events socket. Every
 * failure is a TetherError naming what went wrong: wrong password, locked account,
 * unreachable server, certificate not from the pinned CA, proxy refusal.
 */
export class ServerConnection {
  private readonly http: AxiosInstance;
  private readonly agent: https.Agent & ProxyAwareAgent;
  private accessToken: string | undefined;
  private refreshToken: string | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private live: LiveConnection | undefined;
  private closed = false;

  /**
   * The console API, signed in: `api.call('commands.create', { deviceId }, body)`. An
   * expired access token is refreshed once and the call repeated.
   */
  readonly api: ConsoleApi = new RouteClient(API_ROUTES, (request, options) => this.authenticated(request, options?.timeoutMs));
  /** The routes called before (or without) an access token: sign-in and refresh. */
  private readonly anonymous: ConsoleApi = new RouteClient(API_ROUTES, (request, options) => this.send(request, false, options?.timeoutMs));

  constructor(
    readonly target: ServerTarget,
    private readonly options: ServerConnectionOptions = {},
  ) {
    this.agent = createHttpsAgent(target);
    this.http = axios.create({
      baseURL: this.origin,
      httpsAgent: this.agent,
      proxy: false,
      timeout: options.requestTimeoutMs ?? 15_000,
      validateStatus: () => true,
      maxRedirects: 0,
    });
  }

  get signedIn(): boolean {
    return this.accessToken !== undefined;
  }

  async signIn(username: string, password: string): Promise<LoginResponse> {
    const answer = await this.anonymous.call('auth.login', {}, { username, password });
    this.adopt(answer);
    return answer;
  }

  /** Resumes a remembered session from its refresh token. */
  async resume(refreshToken: string): Promise<void> {
    this.refreshToken = refreshToken;
    await this.refresh();
  }

  /** The absolute URL of a route, for clients that speak its bytes themselves (tus uploads). */
  routeUrl<N extends keyof ApiRoutes & string>(name: N, params: RouteParams<ApiRoutes[N]>): string {
    return `${this.origin}${this.api.path(name, params)}`;
  }

  /** `https://host:port`, without a trailing slash. */
  private get origin(): string {
    return this.target.url.replace(/\/+$/, '');
  }

  /** A signed-in call; an expired access token is refreshed once and the call repeated. */
  private async authenticated(request: RouteRequest, timeoutMs: number | undefined): Promise<unknown> {
    if (this.refreshing) await this.refreshing.catch(() => undefined);
    if (!this.accessToken) throw new TetherError('NOT_SIGNED_IN', 'sign in first');
    const used = this.accessToken;
    try {
      return await this.send(request, true, timeoutMs);
    } catch (err) {
      if (!(err instanceof TetherError)) throw err;
      if (err.code === 'TOKEN_INVALID' || err.code === 'ACCOUNT_DISABLED') {
        this.endSession(err);
        throw err;
      }
      if (err.code !== 'TOKEN_EXPIRED') throw err;
      // refresh only if nobody did since this call's token was taken
      await this.renewExpired(used);
      return this.send(request, true, timeoutMs);
    }
  }

  /** The agent every request of this connection goes through (pinned CA, proxy): for clients that speak HTTP themselves (tus). */
  get httpsAgent(): https.Agent {
    return this.agent;
  }

  /** The current access token, after any refresh in flight. */
  async currentToken(): Promise<string> {
    if (this.refreshing) await this.refreshing.catch(() => undefined);
    if (!this.accessToken) throw new TetherError('NOT_SIGNED_IN', 'sign in first');
    return this.accessToken;
  }

  /** A socket-level failure of a request to this server, as the error a person can act on. */
  networkError(err: Error & { code?: string }): TetherError {
    // the proxy resolver's own refusals (a bad PAC script) arrive wrapped by axios
    if (err.cause instanceof TetherError) return err.cause;
    if (err instanceof TetherError) return err;
    return describeConnectionError(err, { host: new URL(this.target.url).host, proxyHost: this.agent.proxyHost });
  }

  /** The server said `used` expired: refresh, unless someone already did since it was taken. */
  async renewExpired(used: string): Promise<void> {
    if (this.accessToken === used) await this.refresh();
    else if (this.refreshing) await this.refreshing;
  }

  /**
   * An authenticated GET whose body is streamed, not parsed (file content). An error
   * answer is read (bounded) and thrown as its TetherError; an expired token is
   * refreshed once.
   */
  async openStream(path: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ status: number; headers: IncomingHttpHeaders; body: Readable }> {
    const token = await this.currentToken();
    let response;
    try {
      // the server holds a request for a chunk still on its way (~15 s): a longer idle limit
      response = await this.http.request<Readable>({ method: 'GET', url: path, responseType: 'stream', signal, timeout: 60_000, headers: { ...headers, authorization: `Bearer ${token}` } });
    } catch (err) {
      if (signal.aborted) throw err;
      throw this.networkError(err as Error & { code?: string });
    }
    if (response.status < 400) return { status: response.status, headers: response.headers as IncomingHttpHeaders, body: response.data };
    const text = await readBounded(response.data, 64 * 1024);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const error = parseErrorBody(parsed);
    if (error?.error.code === 'TOKEN_EXPIRED') {
      await this.renewExpired(token);
      return this.openStream(path, headers, signal);
    }
    if (error) throw new TetherError(error.error.code, error.error.message, error.error.details);
    throw new TetherError('SERVER_UNREACHABLE', `${new URL(this.target.url).host} answered HTTP ${response.status} to ${path}`);
  }

  startLive(): void {
    this.live?.stop();
    this.live = new LiveConnection({
      url: this.target.url,
      agent: this.agent,
      caPem: this.target.caPem,
      token: () => this.accessToken,
      refresh: () => this.refresh(),
      onEvent: (event) => this.options.onLiveEvent?.(event),
      onState: (state) => this.options.onConnectionState?.(state),
      onRevoked: (reason) => this.endSession(new TetherError('TOKEN_INVALID', `your session ended (${reason}); sign in again`)),
      ...(this.options.liveBackoff ? { backoff: this.options.liveBackoff } : {}),
      ...(this.options.keepaliveMs ? { keepaliveMs: this.options.keepaliveMs } : {}),
    });
    this.live.start();
  }

  /** Signs out on the server (best effort) and forgets the tokens. */
  async signOut(): Promise<void> {
    if (this.accessToken) await this.api.call('auth.logout', {}, {}).catch(() => undefined);
    this.close();
    this.options.onRefreshToken?.(undefined);
  }

  close(): void {
    this.closed = true;
    this.live?.stop();
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.accessToken = undefined;
    this.refreshToken = undefined;
    this.agent.destroy();
  }

  /** One refresh at a time; callers during a refresh wait for it. */
  refresh(): Promise<void> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<void> {
    if (!this.refreshToken) throw new TetherError('NOT_SIGNED_IN', 'sign in first');
    try {
      const pair = await this.anonymous.call('auth.refresh', {}, { refreshToken: this.refreshToken });
      this.adopt(pair);
      this.live?.renew(pair.accessToken);
    } catch (err) {
      if (err instanceof TetherError && ['REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED', 'ACCOUNT_DISABLED'].includes(err.code)) {
        this.endSession(err);
      }
      throw err;
    }
  }

  private adopt(pair: TokenPair): void {
    this.accessToken = pair.accessToken;
    this.refreshToken = pair.refreshToken;
    this.options.onRefreshToken?.(pair.refreshToken);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    // refresh at 80 % of the lifetime so calls and the live socket never see it lapse
    this.refreshTimer = setTimeout(() => void this.refresh().catch(() => undefined), pair.expiresIn * 800);
    this.refreshTimer.unref();
  }

  private endSession(error: TetherError): void {
    if (this.closed) return;
    this.close();
    this.options.onRefreshToken?.(undefined);
    this.options.onSessionEnded?.(error);
  }

  private async send(request: RouteRequest, authenticated: boolean, timeoutMs?: number): Promise<unknown> {
    const { method, path, body } = request;
    let response;
    try {
      response = await this.http.request({
        method,
        url: path,
        ...(timeoutMs ? { timeout: timeoutMs } : {}),
        // a POST always carries a JSON body (an empty one would go out form-encoded: 415)
        ...(body !== undefined ? { data: body } : method === 'POST' ? { data: {} } : {}),
        headers: authenticated && this.accessToken ? { authorization: `Bearer ${this.accessToken}` } : {},
      });
    } catch (err) {
      throw this.networkError(err as Error & { code?: string });
    }
    if (response.status >= 400) {
      const error = parseErrorBody(response.data);
      if (error) throw new TetherError(error.error.code, error.error.message, error.error.details);
      const proxyHost = this.agent.proxyHost;
      if (proxyHost) throw proxyRefusal(response.status, proxyHost, new URL(this.target.url).host, this.agent.proxyAbout);
      throw new TetherError('SERVER_UNREACHABLE', `${new URL(this.target.url).host} answered HTTP ${response.status}; is this a Tether server?`);
    }
    // a 204 has no body: the route's answer schema (null) reads it as null
    const parsed = request.response.safeParse(response.status === 204 ? null : response.data);
    if (!parsed.success) throw new TetherError('SERVER_UNREACHABLE', `the server's answer to ${path} is not what this console expects (version mismatch?)`);
    return parsed.data;
  }
}

/** Reads at most `limit` bytes of a stream as text (an error body), then drops the rest. */
async function readBounded(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (size < limit) chunks.push(chunk.subarray(0, limit - size));
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}
