import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { IPC_CALL_NAMES, type IpcCallName, type IpcInput } from '#contract/ipc';
import { dispatchCall } from '../../../src/main/dispatch.ts';
import { composeTestConsole } from '../../helpers/console.ts';
import { tempDir } from '../../helpers/server.ts';

/**
 * The table composition.ts joins from the domains' slices is the contract, call for call:
 * the renderer can reach every call and nothing the contract does not name.
 */
describe("the console's IPC table", () => {
  const home = tempDir('ipc-table-');
  const composed = composeTestConsole({
    home,
  });
  afterAll(async () => {
    await composed.service.shutdown();
    rmSync(home, { recursive: true, force: true });
  });

  it('has a handler for every call of the contract and none beyond it', () => {
    expect(Object.keys(composed.handlers).sort()).toEqual([...IPC_CALL_NAMES].sort());
    expect(Object.values(composed.handlers).every((handler) => typeof handler === 'function')).toBe(true);
  });

  it('answers NOT_SIGNED_IN for every slice that calls the server while nobody is signed in', async () => {
    const serverCalls: { [K in IpcCallName]?: IpcInput<K> } = {
      'fleet.devices': {},
      'commands.get': { id: 'c-1' },
      'sessions.get': { id: 's-1' },
      'files.list': { deviceId: 'd-1', sessionId: 's-1' },
    };
    for (const [call, input] of Object.entries(serverCalls)) {
      const result = await dispatchCall(composed.handlers, call, input);
      expect(result, call).toEqual({ ok: false, error: { code: 'NOT_SIGNED_IN', message: 'sign in first' } });
    }
  });
});
