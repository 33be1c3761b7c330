import type { TunnelItem } from '#contract/ipc';
import { TUNNEL_END_CAUSE_TEXT, type TunnelPath } from '#contract/tunnels';
import { formatBytes } from './format.ts';

/** How a leg reached the relay, as the list shows it. */
export const PATH_LABELS: Readonly<Record<TunnelPath, string>> = { direct: 'direct', fallback: '443 fallback' };

/** "127.0.0.1:52114", or null once the tunnel is closed. */
export function localAddress(item: TunnelItem): string | null {
  return item.localPort === null ? null : `127.0.0.1:${item.localPort}`;
}

/** What a browser opens for an HTTP target. */
export function localUrl(item: TunnelItem): string | null {
  return item.targetKind === 'http' && item.localPort !== null ? `http://127.0.0.1:${item.localPort}/` : null;
}

/** "Console direct · device 443 fallback": how each leg reached the relay (only the known ones). */
export function pathText(item: Pick<TunnelItem, 'consolePath' | 'agentPath'>): string {
  const parts = [item.consolePath && `console ${PATH_LABELS[item.consolePath]}`, item.agentPath && `device ${PATH_LABELS[item.agentPath]}`].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'not connected yet';
}

/** Whether either leg runs over the WebSocket on 443 (the list flags it). */
export function usesFallback(item: Pick<TunnelItem, 'consolePath' | 'agentPath'>): boolean {
  return item.consolePath === 'fallback' || item.agentPath === 'fallback';
}

/** "↑ 1.2 MB · ↓ 48 kB · 2 connections (5 in all)". */
export function trafficText(item: TunnelItem): string {
  const connections = `${item.activeConnections} connection${item.activeConnections === 1 ? '' : 's'}`;
  return `↑ ${formatBytes(item.bytesToDevice)} · ↓ ${formatBytes(item.bytesFromDevice)} · ${connections} (${item.totalConnections} in all)`;
}

/** The row's status: "Open", "Connecting…", "Reconnecting (retry in 3 s)", "Closed — the service session ended". */
export function tunnelStatusText(item: TunnelItem, now: number = Date.now()): string {
  switch (item.link) {
    case 'connecting':
      return 'Connecting…';
    case 'connected':
      return item.state === 'open' ? 'Open' : 'Waiting for the device…';
    case 'reconnecting': {
      if (!item.nextRetryAt) return 'Reconnecting…';
      const seconds = Math.max(0, Math.ceil((Date.parse(item.nextRetryAt) - now) / 1000));
      return seconds > 0 ? `Reconnecting (retry in ${seconds} s)` : 'Reconnecting…';
    }
    case 'closed':
      return item.endCause ? `Closed — ${TUNNEL_END_CAUSE_TEXT[item.endCause]}` : 'Closed';
  }
}

/** The tunnels the list shows as active (anything not closed). */
export function openTunnels(items: readonly TunnelItem[] | null): TunnelItem[] {
  return (items ?? []).filter((i) => i.link !== 'closed');
}
