import { describe, expect, it } from 'vitest';
import type { SessionView } from '#contract/api/sessions';
import type { IpcCallName, IpcInput, IpcOutput, TetherBridge } from '#contract/ipc';
import type { SessionNotice } from '../../../src/renderer/stores/service-session-reducers.ts';
import { createServiceSessionStore } from '../../../src/renderer/stores/service-session-store.ts';
import { awaitingView, sessionView } from './fixtures.ts';

type Answer = (input: Record<string, unknown>) => unknown;

/** A bridge answering session calls from `answers`, recording every call. */
function fakeBridge(answers: Partial<Record<IpcCallName, Answer>>) {
  const calls: { name: IpcCallName; input: unknown }[] = [];
  const bridge: TetherBridge = {
    invoke<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>> {
      calls.push({ name, input });
      const answer = answers[name];
      if (!answer) return Promise.reject(new Error(`unexpected call ${name}`));
      try {
        return Promise.resolve(answer(input as Record<string, unknown>) as IpcOutput<K>);
      } catch (err) {
        return Promise.reject(err as Error);
      }
    },
    on: () => () => undefined,
  };
  return { bridge, calls };
}

function storeWith(answers: Partial<Record<IpcCallName, Answer>>, userId = 'u1') {
  const { bridge, calls } = fakeBridge(answers);
  const notices: SessionNotice[] = [];
  const store = createServiceSessionStore(bridge, { currentUserId: () => userId, deviceLabel: (id) => `device ${id}`, onNotice: (n) => notices.push(n) });
  return { store, calls, notices };
}

const stateEvent = (session: SessionView) => ({ type: 'session.state' as const, deviceId: session.deviceId, session });

describe('service session store', () => {
  it('loads the sessions of the device it opens, newest first, without announcing them', async () => {
    const { store, calls, notices } = storeWith({
      'sessions.list': () => ({ items: [sessionView({ id: 's1' }), awaitingView({ id: 's2', createdAt: '2025-01-02T10:00:00.000Z' })] }),
    });
    await store.getState().open('d1');
    expect(calls).toEqual([{ name: 'sessions.list', input: { deviceId: 'd1' } }]);
    expect(store.getState().sessions?.map((s) => s.id)).toEqual(['s2', 's1']);
    expect(notices).toEqual([]);
  });

  it('follows session.state events: consent arriving is announced and the session is shown active', async () => {
    const { store, notices } = storeWith({ 'sessions.list': () => ({ items: [awaitingView({ id: 's1' })] }) });
    await store.getState().open('d1');
    store.getState().receive(stateEvent(sessionView({ id: 's1' })));
    expect(store.getState().sessions?.[0]?.state).toBe('active');
    expect(notices.map((n) => n.title)).toEqual(['Consent granted by Pat Biomed']);
    // the same state again (the answer of a call crossing the event) says nothing more
    store.getState().receive(stateEvent(sessionView({ id: 's1' })));
    expect(notices).toHaveLength(1);
  });

  it('announces the end of a session the user is in even on a device not on screen', async () => {
    const { store, notices } = storeWith({ 'sessions.list': () => ({ items: [] }) });
    await store.getState().open('d1');
    const elsewhere = (over: Partial<SessionView>) => sessionView({ id: 's9', deviceId: 'd9', ...over });
    store.getState().receive(stateEvent(elsewhere({})));
    store.getState().receive(stateEvent(elsewhere({ state: 'ended', endCause: 'EXPIRED', timeline: [...elsewhere({}).timeline, { at: '2025-01-01T10:30:20.000Z', type: 'ended', detail: null }] })));
    expect(notices.map((n) => n.title)).toEqual(['Session ended: its time ran out']);
    expect(notices[0]!.message).toContain('device d9');
    expect(store.getState().sessions).toEqual([]);
  });

  it('announces a session allowed at once by policy on request', async () => {
    const { store, notices } = storeWith({
      'sessions.list': () => ({ items: [] }),
      'sessions.request': () => sessionView({ id: 's1', decidedBy: 'policy' }),
    });
    await store.getState().open('d1');
    await store.getState().request({ scopes: ['diagnose'], reason: 'INC-1', durationMinutes: 30 });
    expect(store.getState().sessions?.[0]?.state).toBe('active');
    expect(notices.map((n) => n.title)).toEqual(['Session started']);
  });

  it('keeps a busy device\'s session so the user can join it as an observer', async () => {
    const holder = sessionView({ id: 's7', engineer: { id: 'u2', username: 'ann', displayName: 'Ann' } });
    const { store, calls } = storeWith({
      'sessions.list': () => ({ items: calls.some((c) => c.name === 'sessions.request') ? [holder] : [] }),
      'sessions.request': () => {
        // what a BridgeError carries (bridge.ts itself needs the DOM)
        throw Object.assign(new Error('Ann already has a session on this device'), { code: 'SESSION_BUSY', details: { sessionId: 's7', engineer: 'ann' } });
      },
      'sessions.join': () => ({ ...holder, observers: [{ id: 'u1', username: 'sam', displayName: 'Sam Engineer' }] }),
    });
    await store.getState().open('d1');
    await expect(store.getState().request({ scopes: ['diagnose'], reason: 'INC-1', durationMinutes: 30 })).rejects.toMatchObject({ code: 'SESSION_BUSY' });
    expect(store.getState().busy).toEqual({ sessionId: 's7', message: expect.stringContaining('(ann)') });
    await store.getState().join('s7');
    expect(calls.at(-1)).toEqual({ name: 'sessions.join', input: { id: 's7' } });
    expect(store.getState().busy).toBeNull();
    expect(store.getState().sessions?.[0]?.observers.map((o) => o.id)).toEqual(['u1']);
  });

  it('drops an answer for a device no longer on screen', async () => {
    let release: (answer: unknown) => void = () => undefined;
    const { bridge } = fakeBridge({});
    const slow: TetherBridge = {
      ...bridge,
      invoke: (() =>
        new Promise((resolve) => {
          release = resolve as (answer: unknown) => void;
        })) as TetherBridge['invoke'],
    };
    const store = createServiceSessionStore(slow, { currentUserId: () => 'u1', deviceLabel: () => 'x' });
    const opening = store.getState().open('d1');
    store.getState().close();
    release({ items: [sessionView({ id: 's1' })] });
    await opening;
    expect(store.getState()).toMatchObject({ deviceId: null, sessions: null });
  });
});
