import type { LiveEvent } from '#contract/api/live';
import type { BackoffPolicy } from '#contract/backoff';
import { TetherError } from '#contract/errors';
import type { TunnelItem } from '#contract/ipc';
import { Throttle } from '../transfers/progress.ts';
import { LocalTunnel, type TunnelServerLink } from './local-tunnel.ts';

export interface TunnelManagerOptions {
  onChange: (items: TunnelItem[]) => void;
  redial?: BackoffPolicy;
  waitForLinkMs?: number;
  pingMs?: number;
  openPollMs?: number;
  /** How often counters may be pushed to the renderer. */
  progressIntervalMs?: number;
}

/** Closed tunnels the list keeps, newest first, so their end cause stays visible. */
const KEEP_CLOSED = 20;

/**
 * The console's tunnels: opens them on the server, gives each a local port on 127.0.0.1
 * (LocalTunnel), follows the server's live `tunnel` events, and closes them. Follows the
 * signed-in connection like the transfer engine: signing out ends every local end.
 */
export class TunnelManager {
  private link: TunnelServerLink | null = null;
  private readonly tunnels = new Map<string, LocalTunnel>();
  private readonly throttle: Throttle;

  constructor(private readonly options: TunnelManagerOptions) {
    this.throttle = new Throttle(options.progressIntervalMs ?? 250, () => options.onChange(this.list()));
  }

  attach(link: TunnelServerLink): void {
    this.detach();
    this.link = link;
  }

  /** Signed out or the connection ended: every local end closes (the session's end closes the tunnels on the server). */
  detach(): void {
    this.link = null;
    for (const tunnel of this.tunnels.values()) tunnel.finish();
    this.tunnels.clear();
    this.throttle.flush();
  }

  /** Closes every open tunnel on the server too (signing out while signed in). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.tunnels.values()].map((t) => t.close().catch(() => t.finish())));
  }

  list(): TunnelItem[] {
    const items = [...this.tunnels.values()].map((t) => t.item());
    const rank = (i: TunnelItem) => (i.link === 'closed' ? 1 : 0);
    return items.sort((a, b) => rank(a) - rank(b) || (b.closedAt ?? b.openedAt).localeCompare(a.closedAt ?? a.openedAt));
  }

  /** Opens one: the server queues the device's part, the local port binds, the link is dialed. */
  async open(input: { deviceId: string; sessionId: string; targetId: string }): Promise<TunnelItem> {
    const link = this.requireLink();
    const opened = await link.api.call('tunnels.open', { sessionId: input.sessionId }, { targetId: input.targetId });
    if (opened.tunnel.deviceId !== input.deviceId) {
      await link.api.call('tunnels.close', { tunnelId: opened.tunnel.id }).catch(() => undefined);
      throw new TetherError('VALIDATION_FAILED', 'that session belongs to another device');
    }
    const tunnel = new LocalTunnel(link, opened.tunnel, {
      redial: this.options.redial ?? { baseMs: 500, maxMs: 10_000 },
      waitForLinkMs: this.options.waitForLinkMs ?? 15_000,
      pingMs: this.options.pingMs ?? 15_000,
      openPollMs: this.options.openPollMs ?? 1000,
      onChange: (urgent) => (urgent ? this.throttle.flush() : this.throttle.request()),
    });
    this.tunnels.set(tunnel.id, tunnel);
    tunnel.onClosed(() => this.prune());
    try {
      await tunnel.start(opened.link);
    } catch (err) {
      // nothing carries it: close it on the server rather than leave the device's leg waiting
      await tunnel.close().catch(() => tunnel.finish());
      this.tunnels.delete(tunnel.id);
      this.throttle.flush();
      throw err;
    }
    return tunnel.item();
  }

  async close(id: string): Promise<TunnelItem> {
    const tunnel = this.get(id);
    await tunnel.close();
    return tunnel.item();
  }

  get(id: string): LocalTunnel {
    const tunnel = this.tunnels.get(id);
    if (!tunnel) throw new TetherError('NOT_FOUND', 'this console has no such tunnel');
    return tunnel;
  }

  /** The server's live events: a tunnel's state (closed by the session's end, by another console, …). */
  receive(event: LiveEvent): void {
    if (event.type === 'tunnel') this.tunnels.get(event.tunnel.id)?.adopt(event.tunnel);
  }

  private requireLink(): TunnelServerLink {
    if (!this.link) throw new TetherError('NOT_SIGNED_IN', 'sign in first');
    return this.link;
  }

  private prune(): void {
    const closed = [...this.tunnels.values()].filter((t) => t.closed).map((t) => t.item());
    closed.sort((a, b) => (b.closedAt ?? b.openedAt).localeCompare(a.closedAt ?? a.openedAt));
    for (const item of closed.slice(KEEP_CLOSED)) this.tunnels.delete(item.id);
  }
}
