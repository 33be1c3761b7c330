import { describe, expect, it } from 'vitest';
import type { CommandView } from '#contract/api/commands';
import type { IpcCallName, IpcInput, IpcOutput, TetherBridge } from '#contract/ipc';
import { createDeviceStore } from '../../../src/renderer/stores/device-store.ts';
import { commandView, detailOf, device } from './fixtures.ts';

/** A bridge serving device d1 with `commands` listed, recording every call. */
function deviceBridge(commands: CommandView[]) {
  const calls: IpcCallName[] = [];
  const answers: Partial<Record<IpcCallName, unknown>> = {
    'fleet.device': detailOf(device({ id: 'd1' })),
    'fleet.events': { items: [] },
    'commands.list': { items: commands },
  };
  const bridge: TetherBridge = {
    invoke<K extends IpcCallName>(name: K, _input: IpcInput<K>): Promise<IpcOutput<K>> {
      calls.push(name);
      return name in answers ? Promise.resolve(answers[name] as IpcOutput<K>) : Promise.reject(new Error(`unexpected call ${name}`));
    },
    on: () => () => undefined,
  };
  return { bridge, calls };
}

const stateEvent = (command: CommandView) => ({ type: 'command.state' as const, deviceId: command.deviceId, command });

describe('device store', () => {
  it('updates a command from its command.state event alone, and tells the shell once when it finishes', async () => {
    const queued = commandView({ id: 'c1' });
    const { bridge, calls } = deviceBridge([queued]);
    const finished: CommandView[] = [];
    const store = createDeviceStore(bridge, { onCommandFinished: (command) => finished.push(command) });
    await store.getState().open('d1');

    const running = commandView({
      id: 'c1',
      state: 'running',
      updatedAt: '2025-01-01T10:00:02.000Z',
      attempts: 1,
      progress: { percent: 40 },
      history: [...queued.history, { state: 'delivered', at: '2025-01-01T10:00:01.000Z', detail: null }, { state: 'running', at: '2025-01-01T10:00:02.000Z', detail: null }],
    });
    store.getState().receive(stateEvent(running));
    expect(store.getState().commands.items).toEqual([running]);
    expect(finished).toEqual([]);

    const succeeded = commandView({
      ...running,
      state: 'succeeded',
      updatedAt: '2025-01-01T10:00:03.000Z',
      result: { echo: 'pong' },
      history: [...running.history, { state: 'succeeded', at: '2025-01-01T10:00:03.000Z', detail: null }],
    });
    store.getState().receive(stateEvent(succeeded));
    // the same view announced again (a redelivered event) is not a second finish
    store.getState().receive(stateEvent(succeeded));
    expect(store.getState().commands.items).toEqual([succeeded]);
    expect(finished).toEqual([succeeded]);
    expect(calls).not.toContain('commands.get');
  });

  it('adds a command it did not list yet, ignores an older view arriving late and another device’s commands', async () => {
    const { bridge, calls } = deviceBridge([]);
    const store = createDeviceStore(bridge);
    await store.getState().open('d1');

    const delivered = commandView({ id: 'c2', state: 'delivered', updatedAt: '2025-01-01T10:00:01.000Z', attempts: 1 });
    store.getState().receive(stateEvent(delivered));
    store.getState().receive(stateEvent(commandView({ id: 'c2' })));
    store.getState().receive(stateEvent(commandView({ id: 'c9', deviceId: 'd2' })));
    expect(store.getState().commands.items).toEqual([delivered]);
    expect(calls).not.toContain('commands.get');
  });
});
