import http2, { type ClientHttp2Session } from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { API_ROUTES } from '#contract/http/api-routes';
import { pathOf } from '#contract/http/client';
import type { TunnelTicket, TunnelView } from '#contract/api/tunnels';
import { type BackoffPolicy, backoffDelay } from '#contract/backoff';
import { TetherError } from '#contract/errors';
import type { TunnelItem, TunnelLinkState } from '#contract/ipc';
import { TUNNEL_H2_SETTINGS, TUNNEL_LINK_WINDOW, dialTunnelLink } from '#node-lib/tunnel-link';
import { TUNNEL_END_CAUSE_TEXT, TUNNEL_WIRE } from '#contract/tunnels';
import { type ServerTarget, createHttpsAgent } from '../http-agent.ts';
import type { ConsoleApi } from '../server-connection.ts';
import { carryConnection } from './carry-connection.ts';

/** What a tunnel needs of the signed-in server connection. */
export interface TunnelServerLink {
  readonly api: ConsoleApi;
  currentToken(): Promise<string>;
  renewExpired(used: string): Promise<void>;
  /** The server as the API connection reaches it: pinned CA and proxy choice, which the links follow too. */
  readonly target: ServerTarget;
}

export interface LocalTunnelOptions {
  /** Redial schedule after the link broke. */
  redial: BackoffPolicy;
  /** How long a local connection waits for a broken link to come back before it is closed. */
  waitForLinkMs: number;
  /** Interval of the HTTP/2 PING that notices a link that died silently. */
  pingMs: number;
  /** While waiting for the device's leg: how often the server is asked, in case a live event was missed. */
  openPollMs: number;
  /** Called whenever what the list shows changed; `urgent` for state changes (counters may wait). */
  onChange: (urgent: boolean) => void;
}

/** Refusals after which dialing again cannot help: the tunnel is over, or the user may not use it. */
const FINAL_CODES = new Set(['TUNNEL_NOT_OPEN', 'NOT_FOUND', 'FORBIDDEN', 'SESSION_NOT_ACTIVE', 'TOKEN_INVALID', 'NOT_SIGNED_IN']);


/**
 * One tunnel's local end: a TCP server on 127.0.0.1 (port 0, never another interface),
 * and the link to the relay — dialed with a one-time ticket, HTTP/2 on top, each local
 * connection one CONNECT stream. When the link breaks while the tunnel is open it dials
 * again with a fresh ticket, with backoff; the server's word that the tunnel is closed
 * (an answer, a live event) ends it here too.
 */
export class LocalTunnel {
  private view: TunnelView;
  private readonly server = net.createServer({ allowHalfOpen: true }, (socket) => void this.accept(socket));
  private readonly sockets = new Set<net.Socket>();
  private session: ClientHttp2Session | undefined;
  private linkState: TunnelLinkState = 'connecting';
  private error: { code: TetherError['code']; message: string } | null = null;
  private port: number | null = null;
  private attempts = 0;
  private retryAt: number | null = null;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private dialing: AbortController | undefined;
  private readonly linkWaiters = new Set<(session: ClientHttp2Session | undefined) => void>();
  private readonly openWaiters = new Set<() => void>();
  private openPoll: NodeJS.Timeout | undefined;
  private readonly counters = { toDevice: 0, fromDevice: 0, active: 0, total: 0 };
  private readonly closeListeners = new Set<() => void>();

  constructor(
    private readonly link: TunnelServerLink,
    view: TunnelView,
    private readonly options: LocalTunnelOptions,
  ) {
    this.view = view;
  }

  get id(): string {
    return this.view.id;
  }

  get closed(): boolean {
    return this.linkState === 'closed';
  }

  get localPort(): number | null {
    return this.port;
  }

  get kind(): TunnelView['targetKind'] {
    return this.view.targetKind;
  }

  /**
   * Binds the local port, dials the first link with the ticket the open answered, and
   * waits for the device's leg: only then does a connection to the port reach the device.
   */
  async start(ticket: TunnelTicket): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: '127.0.0.1', port: 0 }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    await this.dial(ticket);
    await this.deviceJoined();
    if (this.closed) throw new TetherError('TUNNEL_NOT_OPEN', `it closed before it could be used: ${this.view.endCause ? TUNNEL_END_CAUSE_TEXT[this.view.endCause] : 'no reason was given'}`);
  }

  item(): TunnelItem {
    return {
      ...this.view,
      bytesToDevice: this.counters.toDevice,
      bytesFromDevice: this.counters.fromDevice,
      activeConnections: this.counters.active,
      totalConnections: this.counters.total,
      localPort: this.closed ? null : this.port,
      link: this.linkState,
      error: this.error,
      nextRetryAt: this.retryAt === null ? null : new Date(this.retryAt).toISOString(),
    };
  }

  /** The server's view changed (live event or answer): a closed tunnel closes here too. */
  adopt(view: TunnelView): void {
    if (this.closed) return;
    this.view = this.withOwnPath(view);
    if (view.state === 'closed') this.finish();
    else this.options.onChange(true);
    if (view.state === 'open') this.releaseOpen();
  }

  /** Closes the tunnel on the server, then here; the server's answer is the final view. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      this.view = await this.link.api.call('tunnels.close', { tunnelId: this.id });
    } catch (err) {
      // already closed there: learn how it ended; anything else still closes the local end
      if (!(err instanceof TetherError) || err.code !== 'TUNNEL_NOT_OPEN') throw err;
      await this.refreshView();
    } finally {
      this.finish();
    }
  }

  /** Ends the local end only (signed out, console closing); the server ends the tunnel with the session. */
  finish(): void {
    if (this.closed) return;
    this.linkState = 'closed';
    this.retryAt = null;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.dialing?.abort(new TetherError('TUNNEL_NOT_OPEN', 'the tunnel closed'));
    this.session?.destroy();
    this.session = undefined;
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
    this.release(undefined);
    this.releaseOpen();
    for (const listener of this.closeListeners) listener();
    this.options.onChange(true);
  }

  /** Called once the tunnel closed here (terminals on it end too). */
  onClosed(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  private async dial(ticket: TunnelTicket): Promise<void> {
    const controller = new AbortController();
    this.dialing = controller;
    const token = await this.link.currentToken();
    // the API connection's kind of agent: its proxy (profile, else the console-wide setting, asked per URL) or direct
    const agent = createHttpsAgent(this.link.target);
    try {
      const link = await dialTunnelLink({
        relay: ticket.relay,
        path: pathOf(API_ROUTES, 'tunnels.link', { tunnelId: this.id }),
        headers: { authorization: `Bearer ${token}`, [TUNNEL_WIRE.ticketHeader]: ticket.ticket },
        // a hosted server's certificate is public: the system's roots then, as the API connection
        ca: this.link.target.caPem ?? rootCertificates.join('\n'),
        agentFor: () => Promise.resolve(agent),
        signal: controller.signal,
      });
      if (controller.signal.aborted) {
        link.stream.destroy();
        controller.signal.throwIfAborted();
      }
      const session = await this.startSession(link.stream);
      if (this.closed) {
        session.destroy();
        throw new TetherError('TUNNEL_NOT_OPEN', 'the tunnel closed');
      }
      this.view = { ...this.view, consolePath: link.path };
      this.session = session;
      this.linkState = 'connected';
      this.error = null;
      this.attempts = 0;
      this.retryAt = null;
      this.release(session);
      this.options.onChange(true);
    } catch (err) {
      if (err instanceof TetherError && err.code === 'TOKEN_EXPIRED') await this.link.renewExpired(token);
      throw err;
    } finally {
      // an upgraded socket has left the agent; this drops only sockets a refusal left pooled
      agent.destroy();
      if (this.dialing === controller) this.dialing = undefined;
    }
  }

  private startSession(stream: Duplex): Promise<ClientHttp2Session> {
    return new Promise((resolve, reject) => {
      const session = http2.connect('http://tunnel.invalid', {
        createConnection: () => stream,
        // the windows the relay and the agent use: larger link windows can deadlock node:http2 peers (docs/architecture.md)
        settings: TUNNEL_H2_SETTINGS,
      });
      session.once('connect', () => {
        session.setLocalWindowSize(TUNNEL_LINK_WINDOW);
        session.off('error', reject);
        session.on('error', () => undefined);
        // the relay says goodbye only when it cuts the tunnel (session end, close, shutdown): cut
        // every local connection now, not after a graceful drain of streams it no longer carries
        session.once('goaway', () => session.destroy());
        session.once('close', () => this.linkLost(session));
        // a link that died without a word (a NAT forgot it) shows as a PING left unanswered
        let awaitingPong = false;
        this.pingTimer = setInterval(() => {
          if (session.destroyed || session.closed) return;
          if (awaitingPong) {
            session.destroy();
            return;
          }
          awaitingPong = true;
          session.ping((err) => {
            if (err) session.destroy();
            else awaitingPong = false;
          });
        }, this.options.pingMs);
        this.pingTimer.unref();
        resolve(session);
      });
      session.once('error', reject);
    });
  }

  private linkLost(session: ClientHttp2Session): void {
    if (this.session !== session || this.closed) return;
    this.session = undefined;
    clearInterval(this.pingTimer);
    this.linkState = 'reconnecting';
    this.options.onChange(true);
    this.scheduleRedial();
  }

  private scheduleRedial(): void {
    const delay = backoffDelay(this.options.redial, this.attempts);
    this.attempts += 1;
    this.retryAt = Date.now() + delay;
    this.retryTimer = setTimeout(() => void this.redial(), delay);
    this.retryTimer.unref();
  }

  private async redial(): Promise<void> {
    if (this.closed) return;
    this.retryAt = null;
    try {
      const ticket = await this.link.api.call('tunnels.ticket', { tunnelId: this.id });
      await this.dial(ticket);
    } catch (err) {
      if (this.closed) return;
      const error = err instanceof TetherError ? err : new TetherError('SERVER_UNREACHABLE', (err as Error).message);
      this.error = { code: error.code, message: error.message };
      if (FINAL_CODES.has(error.code)) {
        await this.refreshView();
        this.finish();
        return;
      }
      this.options.onChange(true);
      this.scheduleRedial();
    }
  }

  private async refreshView(): Promise<void> {
    try {
      this.view = this.withOwnPath(await this.link.api.call('tunnels.get', { tunnelId: this.id }));
    } catch {
      // the list keeps the last view it had; the tunnel closes here either way
    }
  }

  /**
   * The server's view with the path this end dialed kept: the device leg's join may be
   * announced before the server recorded this leg's path, and the console knows its own.
   */
  private withOwnPath(view: TunnelView): TunnelView {
    return { ...view, consolePath: view.consolePath ?? this.view.consolePath };
  }

  /** A local connection: waits for the link if it is being dialed again, then rides one CONNECT stream. */
  private async accept(socket: net.Socket): Promise<void> {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    this.counters.active += 1;
    this.counters.total += 1;
    socket.on('error', () => socket.destroy());
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.counters.active -= 1;
      this.options.onChange(false);
    });
    this.options.onChange(false);
    await this.deviceJoined();
    const session = this.closed ? undefined : (this.session ?? (await this.waitForLink()));
    if (!session || socket.destroyed) {
      socket.destroy();
      return;
    }
    try {
      await carryConnection(socket, session, `${this.view.targetId}:${this.view.targetPort}`, {
        toDevice: (n) => {
          this.counters.toDevice += n;
          this.options.onChange(false);
        },
        fromDevice: (n) => {
          this.counters.fromDevice += n;
          this.options.onChange(false);
        },
      });
    } catch (err) {
      if (this.closed || !(err instanceof TetherError)) return;
      this.error = { code: err.code, message: err.message };
      this.options.onChange(true);
    }
  }

  /**
   * Resolves once the server says the tunnel is open (the device's leg joined), or it
   * closed. Live events say it first; asking the server now and then covers a missed one.
   */
  private deviceJoined(): Promise<void> {
    if (this.view.state !== 'opening' || this.closed) return Promise.resolve();
    this.openPoll ??= setInterval(() => void this.refreshView().then(() => this.adoptRefreshed()), this.options.openPollMs);
    return new Promise((resolve) => this.openWaiters.add(resolve));
  }

  private adoptRefreshed(): void {
    if (this.view.state === 'closed') this.finish();
    else if (this.view.state === 'open') this.releaseOpen();
  }

  private releaseOpen(): void {
    clearInterval(this.openPoll);
    this.openPoll = undefined;
    const waiters = [...this.openWaiters];
    this.openWaiters.clear();
    for (const waiter of waiters) waiter();
  }

  private waitForLink(): Promise<ClientHttp2Session | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.linkWaiters.delete(done);
        resolve(undefined);
      }, this.options.waitForLinkMs);
      const done = (session: ClientHttp2Session | undefined) => {
        clearTimeout(timer);
        resolve(session);
      };
      this.linkWaiters.add(done);
    });
  }

  private release(session: ClientHttp2Session | undefined): void {
    const waiters = [...this.linkWaiters];
    this.linkWaiters.clear();
    for (const waiter of waiters) waiter(session);
  }
}
