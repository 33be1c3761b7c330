import { describe, expect, it } from 'vitest';
import type { IpcCallName, IpcInput, IpcOutput, TetherBridge, TransferItem } from '#contract/ipc';
import { describeError } from '../../../src/renderer/lib/error-messages.ts';
import { activeTransferCount, progressShares, splitTransfers, transferAmountsText, transferEndText, transferNotices, transferStatusText } from '../../../src/renderer/stores/transfer-reducers.ts';
import { createTransfersStore } from '../../../src/renderer/stores/transfers-store.ts';
import type { TransferNotice } from '../../../src/renderer/stores/transfer-reducers.ts';

const MiB = 1024 * 1024;

function transfer(overrides: Partial<TransferItem> & { id: string }): TransferItem {
  return {
    transferId: `t-${overrides.id}`,
    deviceId: 'd1',
    deviceSerial: 'SFX-US00001',
    sessionId: 's1',
    direction: 'from-device',
    fileName: 'system.log',
    devicePath: '/logs/system.log',
    localPath: null,
    state: 'running',
    stage: 'downloading',
    size: 40 * MiB,
    sha256: null,
    bytesDone: 10 * MiB,
    bytesMoved: 10 * MiB,
    speed: 2 * MiB,
    etaSeconds: 15,
    error: null,
    attempts: 0,
    nextRetryAt: null,
    createdAt: '2025-01-01T10:00:00.000Z',
    updatedAt: '2025-01-01T10:00:00.000Z',
    completedAt: null,
    ...overrides,
  };
}

describe('transfer notices', () => {
  it('announces a transfer that completed or failed since the last view, once', () => {
    const before = [transfer({ id: 'a' }), transfer({ id: 'b', direction: 'to-device', fileName: 'tool.bin', devicePath: '/service/tool.bin' })];
    const after = [
      transfer({ id: 'a', state: 'completed', stage: null, localPath: '/home/sam/Downloads/system.log' }),
      transfer({ id: 'b', direction: 'to-device', fileName: 'tool.bin', devicePath: '/service/tool.bin', state: 'failed', stage: null, error: { code: 'FILE_EXISTS', message: '/service/tool.bin exists' } }),
    ];
    const notices = transferNotices(before, after);
    expect(notices.map((n) => [n.tone, n.title])).toEqual([
      ['completed', 'system.log downloaded'],
      ['failed', 'Sending tool.bin to SFX-US00001 failed'],
    ]);
    expect(notices[0]!.message).toContain('/home/sam/Downloads/system.log');
    expect(transferNotices(after, after)).toEqual([]);
  });

  it('says nothing on the first list, for a transfer first seen finished, or for a cancel', () => {
    const done = transfer({ id: 'a', state: 'completed', stage: null });
    expect(transferNotices(null, [done])).toEqual([]);
    expect(transferNotices([], [done])).toEqual([]);
    expect(transferNotices([transfer({ id: 'c' })], [transfer({ id: 'c', state: 'canceled', stage: null })])).toEqual([]);
  });

  it('phrases the new error codes for a person', () => {
    expect(describeError({ code: 'CHECKSUM_MISMATCH', message: 'chunk 3 of 9 failed its check 3 times' })).toBe('The file arrived damaged and was not kept: chunk 3 of 9 failed its check 3 times. Retry the transfer.');
    expect(describeError({ code: 'PATH_NOT_ALLOWED', message: '"/etc/passwd" is not allowed: outside the allowed folders' })).toMatch(/^That place is off limits on this device/);
    expect(describeError({ code: 'FILE_EXISTS', message: '/config/settings.json exists' })).toContain('Choose to replace it');
    expect(describeError({ code: 'TRANSFER_EXPIRED', message: 'kept 24 h' })).toContain('Start it again');
  });
});

describe('how a transfer reads in the panel', () => {
  it('shows verified and merely sent bytes as two shares of the bar', () => {
    const upload = transfer({ id: 'u', direction: 'to-device', stage: 'uploading', bytesDone: 10 * MiB, bytesMoved: 30 * MiB });
    expect(progressShares(upload)).toEqual({ done: 25, moved: 50 });
    expect(progressShares(transfer({ id: 'x', state: 'completed', stage: null }))).toEqual({ done: 100, moved: 0 });
    expect(progressShares(transfer({ id: 'y', size: null }))).toEqual({ done: 0, moved: 0 });
    // while the file is being hashed, nothing has gone anywhere
    expect(progressShares(transfer({ id: 'h', direction: 'to-device', stage: 'preparing', bytesDone: 0, bytesMoved: 20 * MiB }))).toEqual({ done: 0, moved: 0 });
  });

  it('says what it is doing, and how far, fast and long', () => {
    const running = transfer({ id: 'r' });
    expect(transferStatusText(running)).toBe('Receiving');
    expect(transferAmountsText(running)).toBe('10 MB of 40 MB · 2.0 MB/s · 15 s left');
    expect(transferStatusText(transfer({ id: 'q', state: 'queued', stage: null }))).toBe('Waiting for a free slot');
    expect(transferStatusText(transfer({ id: 'p', state: 'paused', stage: null }))).toBe('Paused');
    const now = Date.parse('2025-01-01T10:00:00.000Z');
    expect(transferStatusText(transfer({ id: 'e', stage: 'retrying', nextRetryAt: '2025-01-01T10:00:04.200Z' }), now)).toBe('Connection lost, retrying in 5 s');
    expect(transferAmountsText(transfer({ id: 's', speed: 0, etaSeconds: null }))).toBe('10 MB of 40 MB');
    expect(transferAmountsText(transfer({ id: 'c', state: 'completed', stage: null }))).toBe('40 MB');
    // an upload sent ahead of the device says both
    const ahead = transfer({ id: 'u', direction: 'to-device', state: 'paused', stage: null, bytesDone: 4 * MiB, bytesMoved: 6 * MiB, size: 6 * MiB, speed: 0, etaSeconds: null });
    expect(transferAmountsText(ahead)).toBe('4.0 MB of 6.0 MB on the device · 6.0 MB sent');
  });

  it('says why it ended: a failure by its code, a cancel plainly', () => {
    const failed = transfer({ id: 'f', state: 'failed', error: { code: 'FILE_EXISTS', message: '/config/a.json exists' } });
    expect(transferEndText(failed, describeError)).toBe(describeError(failed.error));
    const canceled = transfer({ id: 'c', state: 'canceled', error: { code: 'TRANSFER_NOT_ACTIVE', message: 'canceled by trainee' } });
    expect(transferEndText(canceled, describeError)).toBe('Canceled by trainee.');
    const ended = transfer({ id: 'e', state: 'canceled', error: { code: 'SESSION_ENDED', message: 'the session ended (CUSTOMER_REVOKED): revoked at the device' } });
    expect(transferEndText(ended, describeError)).toBe('The session ended — revoked at the device.');
    expect(transferEndText(transfer({ id: 'n' }), describeError)).toBeNull();
  });

  it('counts running and waiting ones for the badge, and splits current from history', () => {
    const items = [transfer({ id: 'a' }), transfer({ id: 'b', state: 'queued' }), transfer({ id: 'c', state: 'paused' }), transfer({ id: 'd', state: 'completed' }), transfer({ id: 'e', state: 'failed' })];
    expect(activeTransferCount(items)).toBe(2);
    expect(activeTransferCount(null)).toBe(0);
    const { current, history } = splitTransfers(items);
    expect(current.map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect(history.map((i) => i.id)).toEqual(['d', 'e']);
  });
});

/** A bridge that answers the transfer calls from a script and records them. */
function scriptedBridge(answers: Partial<Record<IpcCallName, (input: unknown) => unknown>>) {
  const calls: [string, unknown][] = [];
  const bridge: TetherBridge = {
    invoke<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>> {
      calls.push([name, input]);
      const answer = answers[name];
      return answer ? Promise.resolve(answer(input) as IpcOutput<K>) : Promise.reject(new Error(`unexpected call ${name}`));
    },
    on: () => () => undefined,
  };
  return { bridge, calls };
}

describe('transfers store', () => {
  it('takes the engine’s list, announces what finished, and hands a browser-mode download to the browser once', async () => {
    const { bridge } = scriptedBridge({
      'transfers.list': () => ({ items: [] }),
      'transfers.download': () => ({ items: [transfer({ id: 'a', state: 'queued', stage: null, bytesDone: 0, bytesMoved: 0 })] }),
    });
    const notices: TransferNotice[] = [];
    const saved: string[] = [];
    const store = createTransfersStore(bridge, { onNotice: (n) => notices.push(n), onSaveDownload: (i) => saved.push(i.id) });
    await store.getState().load();
    await store.getState().download({ deviceId: 'd1', sessionId: 's1', devicePaths: ['/logs/system.log'] }, { saveInBrowser: true });
    expect(store.getState().items?.map((i) => i.id)).toEqual(['a']);
    store.getState().receive([transfer({ id: 'a' })]);
    store.getState().receive([transfer({ id: 'a', state: 'completed', stage: null, updatedAt: '2025-01-01T10:01:00.000Z' })]);
    store.getState().receive([transfer({ id: 'a', state: 'completed', stage: null, updatedAt: '2025-01-01T10:01:00.000Z' })]);
    expect(notices.map((n) => n.title)).toEqual(['system.log downloaded']);
    expect(saved).toEqual(['a']);
  });

  it('keeps a newer event over an older answer, and forgets everything on sign-out', async () => {
    const older = transfer({ id: 'a', state: 'paused', stage: null, updatedAt: '2025-01-01T10:00:00.000Z' });
    const { bridge, calls } = scriptedBridge({ 'transfers.pause': () => older });
    const store = createTransfersStore(bridge);
    store.getState().receive([transfer({ id: 'a', state: 'canceled', stage: null, updatedAt: '2025-01-01T10:00:05.000Z' })]);
    await store.getState().pause('a');
    expect(calls).toEqual([['transfers.pause', { id: 'a' }]]);
    expect(store.getState().items?.[0]?.state).toBe('canceled');
    store.getState().setDrawerOpen(true);
    store.getState().reset();
    expect(store.getState()).toMatchObject({ items: null, drawerOpen: false });
  });

  it('rejects with the call’s error for the caller to phrase', async () => {
    const bridge: TetherBridge = {
      invoke: () => Promise.reject(Object.assign(new Error('x is paused'), { code: 'TRANSFER_NOT_ACTIVE' })),
      on: () => () => undefined,
    };
    await expect(createTransfersStore(bridge).getState().resume('a')).rejects.toMatchObject({ code: 'TRANSFER_NOT_ACTIVE' });
  });
});
