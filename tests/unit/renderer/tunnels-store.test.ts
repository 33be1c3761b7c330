import { describe, expect, it } from 'vitest';
import type { IpcCallName, IpcInput, IpcOutput, TetherBridge, TunnelItem } from '#contract/ipc';
import { createTunnelsStore } from '../../../src/renderer/stores/tunnels-store.ts';

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
  bytesToDevice: 0,
  bytesFromDevice: 0,
  activeConnections: 0,
  totalConnections: 0,
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

/** A bridge whose `tunnels.open` answers when the test says so. */
function slowOpen() {
  let answer: (value: TunnelItem) => void = () => undefined;
  const bridge: TetherBridge = {
    invoke<K extends IpcCallName>(name: K, _input: IpcInput<K>): Promise<IpcOutput<K>> {
      if (name !== 'tunnels.open') return Promise.reject(new Error(`unexpected ${name}`));
      return new Promise((resolve) => (answer = (value) => resolve(value as IpcOutput<K>)));
    },
    on: () => () => undefined,
  };
  return { bridge, answer: (value: TunnelItem) => answer(value) };
}

describe('the tunnels store', () => {
  it('takes an opened tunnel into the list at once, before any event', async () => {
    const { bridge, answer } = slowOpen();
    const store = createTunnelsStore(bridge);
    const opening = store.getState().open({ deviceId: 'd1', sessionId: 's1', targetId: 'service-web' });
    answer(item());
    await opening;
    expect(store.getState().items?.map((i) => i.id)).toEqual(['t1']);
  });

  it('never reopens a tunnel an event already reported closed (the session ended while the answer travelled)', async () => {
    const { bridge, answer } = slowOpen();
    const store = createTunnelsStore(bridge);
    const opening = store.getState().open({ deviceId: 'd1', sessionId: 's1', targetId: 'service-web' });
    store.getState().receive([item({ link: 'closed', state: 'closed', endCause: 'SESSION_ENDED', localPort: null })]);
    answer(item());
    await opening;
    expect(store.getState().items).toEqual([expect.objectContaining({ id: 't1', link: 'closed', endCause: 'SESSION_ENDED' })]);
  });
});
