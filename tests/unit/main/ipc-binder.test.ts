import { describe, expect, it } from 'vitest';
import { TetherError } from '#contract/errors';
import { IPC_CALL_NAMES, IPC_CHANNEL } from '#contract/ipc';
import type { IpcHandlers } from '../../../src/main/dispatch.ts';
import { type IpcInvokeEventLike, type IpcMainLike, bindIpcMain } from '../../../src/main/ipc.ts';
import { isAppUrl } from '../../../src/main/security.ts';

/**
 * Electron cannot run on this machine, so ipcMain is stood in for by a recorder with the
 * same `handle` shape; the binder under test is the real one.
 */
class RecordingIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown) {
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string) {
    this.handlers.delete(channel);
  }
  invoke(frame: IpcInvokeEventLike['senderFrame'], call: unknown, input: unknown) {
    const listener = this.handlers.get(IPC_CHANNEL.call);
    if (!listener) throw new Error('not bound');
    return listener({ senderFrame: frame }, call, input) as Promise<{ ok: boolean; output?: unknown; error?: { code: string; message: string } }>;
  }
}

const calls: string[] = [];
const handlers = new Proxy({} as IpcHandlers, {
  get: (_t, name: string) => (input: unknown) => {
    calls.push(name);
    if (name === 'app.info') return { version: '1.2.3', mode: 'electron', platform: 'linux' };
    if (name === 'profiles.remove') throw new TetherError('FORBIDDEN', 'built-in profiles cannot be removed');
    if (name === 'session.get') return { signedIn: false, extra: 'must not leak' };
    if (name === 'simulator.status') return { phase: 'exploded' };
    return input;
  },
});

const appFrame = { url: 'app://tether/index.html', parent: null };

describe('Electron IPC binder', () => {
  const ipc = new RecordingIpcMain();
  bindIpcMain(ipc, handlers, (url) => isAppUrl(url));

  it('binds the whole contract to one channel', () => {
    expect([...ipc.handlers.keys()]).toEqual([IPC_CHANNEL.call]);
    expect(IPC_CALL_NAMES.length).toBeGreaterThan(10);
  });

  it('answers a valid call from the app frame with the handler output', async () => {
    await expect(ipc.invoke(appFrame, 'app.info', {})).resolves.toEqual({ ok: true, output: { version: '1.2.3', mode: 'electron', platform: 'linux' } });
  });

  it('rejects an unknown channel without calling anything', async () => {
    const before = calls.length;
    const result = await ipc.invoke(appFrame, 'fs.readFile', { path: '/etc/passwd' });
    expect(result).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    expect(calls.length).toBe(before);
  });

  it('rejects a payload that fails the schema, naming the field', async () => {
    const before = calls.length;
    const result = await ipc.invoke(appFrame, 'profiles.save', { name: 'x', url: 'http://plain.example', caPem: null, proxy: null });
    expect(result).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/url/) } });
    const extra = await ipc.invoke(appFrame, 'app.info', { sneaky: true });
    expect(extra).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(calls.length).toBe(before);
  });

  it('rejects a foreign sender (a page that is not the app)', async () => {
    for (const url of ['https://evil.example/', 'app://tether.evil.com/index.html', 'file:///tmp/x.html', '']) {
      const result = await ipc.invoke({ url, parent: null }, 'app.info', {});
      expect(result, url).toMatchObject({ ok: false, error: { code: 'SENDER_REJECTED' } });
    }
  });

  it('rejects a sub-frame, even of the app, and a destroyed frame', async () => {
    expect(await ipc.invoke({ url: 'app://tether/index.html', parent: appFrame }, 'app.info', {})).toMatchObject({ ok: false, error: { code: 'SENDER_REJECTED' } });
    expect(await ipc.invoke(null, 'app.info', {})).toMatchObject({ ok: false, error: { code: 'SENDER_REJECTED' } });
  });

  it('passes a handler error through with its code', async () => {
    expect(await ipc.invoke(appFrame, 'profiles.remove', { id: 'offline-simulator' })).toEqual({
      ok: false,
      error: { code: 'FORBIDDEN', message: 'built-in profiles cannot be removed' },
    });
  });

  it('strips fields the contract does not name, and refuses output outside it', async () => {
    expect(await ipc.invoke(appFrame, 'session.get', {})).toEqual({ ok: true, output: { signedIn: false } });
    expect(await ipc.invoke(appFrame, 'simulator.status', {})).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
  });

  it('unbinds', () => {
    const other = new RecordingIpcMain();
    const unbind = bindIpcMain(other, handlers, () => true);
    unbind();
    expect(other.handlers.size).toBe(0);
  });
});
