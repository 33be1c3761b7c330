import type https from 'node:https';
import WebSocket from 'ws';
import { backoffDelay } from '#contract/backoff';
import { LIVE_CLOSE, LiveEventSchema, type LiveEvent } from '#contract/api/live';
import { API_ROUTES } from '#contract/http/api-routes';
import { pathOf } from '#contract/http/client';
import type { ConnectionState } from '#contract/ipc';

export interface LiveConnectionOptions {
  url: string;
  agent: https.Agent;
  caPem: string | null;
  /** The current access token (refreshed by the caller). */
  token: () => string | undefined;
  /** Get a fresh token (the server said the old one expired). */
  refresh: () => Promise<void>;
  onEvent: (event: LiveEvent) => void;
  onState: (state: ConnectionState) => void;
  /** The server ended the session (revoked, signed out elsewhere). */
  onRevoked: (reason: string) => void;
  backoff?: { baseMs: number; maxMs: number };
  /** Failed attempts in a row after which the state reads `offline`, not `reconnecting`. */
  offlineAfter?: number;
  keepaliveMs?: number;
}

/**
 * The live events WebSocket: reconnects with jittered backoff, renews its token in band,
 * and checks the link with its own pings (a dead link is noticed within seconds, not at
 * the next TCP timeout). Its state is what the console's connection indicator shows, so
 * `online` means: a socket is open and answered a ping recently.
 */
export class LiveConnection {
  private socket: WebSocket | undefined;
  private attempts = 0;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private everConnected = false;
  private lastState: ConnectionState['state'] | undefined;

  constructor(private readonly options: LiveConnectionOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.socket?.removeAllListeners();
    this.socket?.on('error', () => undefined);
    this.socket?.terminate();
    this.socket = undefined;
  }

  /** Sends a renewed token over the open socket (no reconnect needed). */
  renew(token: string): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: 'auth', accessToken: token }));
  }

  private connect(): void {
    const token = this.options.token();
    if (this.stopped || !token) return;
    const wsUrl = `${this.options.url.replace(/^https:/, 'wss:').replace(/\/+$/, '')}${pathOf(API_ROUTES, 'events', {})}`;
    const socket = new WebSocket(wsUrl, {
      agent: this.options.agent,
      ...(this.options.caPem ? { ca: this.options.caPem } : {}),
      headers: { authorization: `Bearer ${token}` },
      handshakeTimeout: 10_000,
    });
    this.socket = socket;
    let refused: number | undefined;
    socket.on('unexpected-response', (_req, res) => {
      refused = res.statusCode;
      socket.terminate();
    });
    socket.on('open', () => {
      this.attempts = 0;
      const resumed = this.everConnected;
      this.everConnected = true;
      this.setState('online', null, resumed);
      this.startKeepalive(socket);
    });
    socket.on('message', (data) => {
      try {
        const parsed = LiveEventSchema.safeParse(JSON.parse(String(data)));
        if (parsed.success) this.options.onEvent(parsed.data);
      } catch {
        // a frame that is not JSON is ignored; the server never sends one
      }
    });
    socket.on('pong', () => {
      this.awaitingPong = false;
    });
    socket.on('error', () => undefined); // 'close' follows and decides what to do
    socket.on('close', (code, reason) => {
      if (this.pingTimer) clearInterval(this.pingTimer);
      if (this.socket !== socket || this.stopped) return;
      this.socket = undefined;
      if (code === LIVE_CLOSE.sessionRevoked) {
        this.options.onRevoked(String(reason) || 'session ended');
        return;
      }
      if (code === LIVE_CLOSE.tokenExpired || refused === 401) {
        this.options.refresh().then(() => this.connect(), () => this.scheduleRetry('sign-in expired; retrying'));
        return;
      }
      this.scheduleRetry(refused ? `server answered ${refused}` : 'connection lost');
    });
  }

  private startKeepalive(socket: WebSocket): void {
    const every = this.options.keepaliveMs ?? 15_000;
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) {
        socket.terminate(); // no answer to the last ping: the link is dead
        return;
      }
      this.awaitingPong = true;
      socket.ping();
    }, every);
    this.pingTimer.unref();
  }

  private scheduleRetry(why: string): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.options.backoff ?? { baseMs: 500, maxMs: 15_000 }, this.attempts);
    this.attempts += 1;
    const offline = this.attempts > (this.options.offlineAfter ?? 3);
    this.setState(offline ? 'offline' : 'reconnecting', `${why}; retrying in ${Math.max(1, Math.round(delay / 1000))} s`, false);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }

  private setState(state: ConnectionState['state'], detail: string | null, resumed: boolean): void {
    if (state === this.lastState && state === 'online') return;
    this.lastState = state;
    this.options.onState({ state, detail, since: new Date().toISOString(), resumed });
  }
}
