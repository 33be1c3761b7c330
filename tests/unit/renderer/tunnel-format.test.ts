import { describe, expect, it } from 'vitest';
import type { TunnelItem } from '#contract/ipc';
import { localAddress, localUrl, openTunnels, pathText, trafficText, tunnelStatusText, usesFallback } from '../../../src/renderer/lib/tunnel-format.ts';

const item = (over: Partial<TunnelItem> = {}): TunnelItem => ({
  id: 't1',
  deviceId: 'd1',
  deviceSerial: 'SFX-000001',
  sessionId: 's1',
  targetId: 'service-web',
  targetLabel: 'Service web page',
  targetKind: 'http',
  targetPort: 8080,
  state: 'open',
  consolePath: 'direct',
  agentPath: 'direct',
  bytesToDevice: 2048,
  bytesFromDevice: 5 * 1024 * 1024,
  activeConnections: 1,
  totalConnections: 3,
  openedBy: { id: 'u1', username: 'sam', displayName: 'Sam Engineer' },
  openedAt: '2026-01-01T10:00:00.000Z',
  closedAt: null,
  endCause: null,
  localPort: 52114,
  link: 'connected',
  error: null,
  nextRetryAt: null,
  ...over,
});

describe('tunnel rows as the console shows them', () => {
  it('gives the local address on 127.0.0.1, and a browser URL only for web pages', () => {
    expect(localAddress(item())).toBe('127.0.0.1:52114');
    expect(localUrl(item())).toBe('http://127.0.0.1:52114/');
    expect(localUrl(item({ targetKind: 'console' }))).toBeNull();
    expect(localAddress(item({ localPort: null, link: 'closed' }))).toBeNull();
  });

  it('names each leg’s path and flags the 443 fallback', () => {
    expect(pathText(item())).toBe('console direct · device direct');
    expect(pathText(item({ agentPath: 'fallback' }))).toBe('console direct · device 443 fallback');
    expect(pathText(item({ consolePath: null, agentPath: null }))).toBe('not connected yet');
    expect(usesFallback(item({ consolePath: 'fallback' }))).toBe(true);
    expect(usesFallback(item())).toBe(false);
  });

  it('says the traffic both ways and the connections', () => {
    expect(trafficText(item())).toBe('↑ 2.0 kB · ↓ 5.0 MB · 1 connection (3 in all)');
  });

  it('states the link, a retry countdown, and why a tunnel closed', () => {
    expect(tunnelStatusText(item())).toBe('Open');
    expect(tunnelStatusText(item({ state: 'opening' }))).toBe('Waiting for the device…');
    expect(tunnelStatusText(item({ link: 'reconnecting', nextRetryAt: '2026-01-01T10:00:04.000Z' }), Date.parse('2026-01-01T10:00:00.500Z'))).toBe('Reconnecting (retry in 4 s)');
    expect(tunnelStatusText(item({ link: 'closed', state: 'closed', endCause: 'SESSION_ENDED' }))).toBe('Closed — the service session ended');
    expect(openTunnels([item(), item({ id: 't2', link: 'closed' })]).map((i) => i.id)).toEqual(['t1']);
  });
});
