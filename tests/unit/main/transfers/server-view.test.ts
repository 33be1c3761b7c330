import { describe, expect, it } from 'vitest';
import { isOlderView, localCourse, withDeclaredFile } from '../../../../src/main/services/transfers/server-view.ts';
import { serverView, transferRecord, uploadRecord } from './transfer-fixtures.ts';

describe('what the server’s view of a transfer means here', () => {
  it('ignores a view older than the one held (answers and live events cross), takes an equal or newer one', () => {
    const held = serverView({ updatedAt: '2025-01-01T10:00:05.000Z' });
    expect(isOlderView(held, serverView({ updatedAt: '2025-01-01T10:00:04.999Z' }))).toBe(true);
    expect(isOlderView(held, serverView({ updatedAt: '2025-01-01T10:00:05.000Z' }))).toBe(false);
    expect(isOlderView(held, serverView({ updatedAt: '2025-01-01T10:00:06.000Z' }))).toBe(false);
    expect(isOlderView(null, serverView())).toBe(false);
  });

  it('ends an upload when the server says the device has it, a download only once its file is in place here', () => {
    const completed = serverView({ state: 'completed' });
    expect(localCourse(uploadRecord(), completed)).toEqual({ kind: 'conclude', state: 'completed', error: null });
    expect(localCourse(transferRecord({ finalPath: null }), completed)).toEqual({ kind: 'none' });
    expect(localCourse(transferRecord({ finalPath: '/tmp/downloads/system.log' }), completed)).toEqual({ kind: 'conclude', state: 'completed', error: null });
  });

  it('cancels here what the server canceled, with the server’s reason', () => {
    const reason = { code: 'SESSION_ENDED' as const, message: 'the session ended' };
    expect(localCourse(transferRecord(), serverView({ state: 'canceled', error: reason }))).toEqual({ kind: 'conclude', state: 'canceled', error: reason });
    expect(localCourse(transferRecord({ state: 'failed' }), serverView({ state: 'canceled', error: reason }))).toEqual({ kind: 'conclude', state: 'canceled', error: reason });
  });

  it('fails here what failed on the server, with its reason or a plain one — once', () => {
    const reason = { code: 'FILE_NOT_FOUND' as const, message: 'no such file on the device' };
    expect(localCourse(transferRecord(), serverView({ state: 'failed', error: reason }))).toEqual({ kind: 'conclude', state: 'failed', error: reason });
    expect(localCourse(transferRecord({ state: 'queued' }), serverView({ state: 'failed' }))).toEqual({
      kind: 'conclude',
      state: 'failed',
      error: { code: 'COMMAND_FAILED', message: 'the transfer failed on the server' },
    });
    expect(localCourse(transferRecord({ state: 'failed' }), serverView({ state: 'failed', error: reason }))).toEqual({ kind: 'none' });
  });

  it('pauses a running or waiting transfer the server paused; a failed one stays failed until the engineer retries', () => {
    expect(localCourse(transferRecord({ state: 'running' }), serverView({ state: 'paused' }))).toEqual({ kind: 'pause' });
    expect(localCourse(transferRecord({ state: 'queued' }), serverView({ state: 'paused' }))).toEqual({ kind: 'pause' });
    expect(localCourse(transferRecord({ state: 'failed' }), serverView({ state: 'paused' }))).toEqual({ kind: 'none' });
    expect(localCourse(transferRecord({ state: 'paused' }), serverView({ state: 'paused' }))).toEqual({ kind: 'none' });
  });

  it('resumes a paused transfer the server runs or queues again, and leaves a failed one failed', () => {
    expect(localCourse(transferRecord({ state: 'paused' }), serverView({ state: 'running' }))).toEqual({ kind: 'resume' });
    expect(localCourse(transferRecord({ state: 'paused' }), serverView({ state: 'queued' }))).toEqual({ kind: 'resume' });
    expect(localCourse(transferRecord({ state: 'running' }), serverView({ state: 'running' }))).toEqual({ kind: 'none' });
    expect(localCourse(transferRecord({ state: 'failed' }), serverView({ state: 'running' }))).toEqual({ kind: 'none' });
  });

  it('keeps a local end final, whatever the server says later', () => {
    for (const local of ['completed', 'canceled'] as const) {
      for (const state of ['queued', 'running', 'paused', 'completed', 'failed', 'canceled'] as const) {
        expect(localCourse(transferRecord({ state: local, finalPath: '/tmp/downloads/system.log' }), serverView({ state })), `${local} ← ${state}`).toEqual({ kind: 'none' });
      }
    }
  });

  it('learns a download’s size and hash once the device declared them, and never changes them after', () => {
    const undeclared = transferRecord({ size: null, sha256: null });
    expect(withDeclaredFile(undeclared, serverView({ size: null, sha256: null }))).toBe(undeclared);
    expect(withDeclaredFile(undeclared, serverView({ size: 123, sha256: 'b'.repeat(64) }))).toMatchObject({ size: 123, sha256: 'b'.repeat(64) });
    const known = transferRecord();
    expect(withDeclaredFile(known, serverView({ size: 123, sha256: 'b'.repeat(64) }))).toBe(known);
  });
});
