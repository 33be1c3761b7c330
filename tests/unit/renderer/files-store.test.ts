import { describe, expect, it } from 'vitest';
import type { IpcCallName, IpcInput, IpcOutput, TetherBridge } from '#contract/ipc';
import type { FileEntry } from '#contract/transfers';
import { breadcrumbOf, createFilesStore, parentOf, sortEntries } from '../../../src/renderer/stores/files-store.ts';

const file = (path: string, size = 100): FileEntry => ({ name: path.slice(path.lastIndexOf('/') + 1), path, type: 'file', size, modifiedAt: '2025-01-01T10:00:00.000Z' });
const folder = (path: string): FileEntry => ({ ...file(path, 0), type: 'directory' });

/** A device whose folders answer `files.list` when the test releases them (in any order). */
function deviceFolders(tree: Record<string, FileEntry[]>) {
  const waiting: { path: string; release: () => void }[] = [];
  const bridge: TetherBridge = {
    invoke<K extends IpcCallName>(name: K, input: IpcInput<K>): Promise<IpcOutput<K>> {
      if (name !== 'files.list') return Promise.reject(new Error(`unexpected ${name}`));
      const path = (input as { path: string }).path;
      return new Promise((resolve, reject) => {
        waiting.push({
          path,
          release: () => (tree[path] ? resolve({ path, entries: tree[path] } as IpcOutput<K>) : reject(Object.assign(new Error(`${path} is not there`), { code: 'FILE_NOT_FOUND' }))),
        });
      });
    },
    on: () => () => undefined,
  };
  const release = async (path: string) => {
    const at = waiting.findIndex((w) => w.path === path);
    waiting.splice(at, 1)[0]!.release();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { bridge, release };
}

describe('the file browser', () => {
  const tree = {
    '/': [folder('/logs'), folder('/config')],
    '/logs': [file('/logs/system.log'), folder('/logs/old'), file('/logs/injector.log')],
  };

  it('lists folders first, then by name; breadcrumbs and parents follow the path', () => {
    expect(sortEntries(tree['/logs']).map((e) => e.name)).toEqual(['old', 'injector.log', 'system.log']);
    expect(breadcrumbOf('/logs/old')).toEqual([
      { label: 'Device', path: '/' },
      { label: 'logs', path: '/logs' },
      { label: 'old', path: '/logs/old' },
    ]);
    expect(parentOf('/logs/a.log')).toBe('/logs');
    expect(parentOf('/logs')).toBe('/');
  });

  it('opens at the roots, browses, and selects files (not folders) of the folder shown', async () => {
    const { bridge, release } = deviceFolders(tree);
    const store = createFilesStore(bridge);
    const opening = store.getState().open('d1', 's1');
    await release('/');
    await opening;
    expect(store.getState().entries?.map((e) => e.path)).toEqual(['/config', '/logs']);
    const browsing = store.getState().browse('/logs');
    expect(store.getState()).toMatchObject({ path: '/logs', loading: true, entries: null });
    await release('/logs');
    await browsing;
    store.getState().selectAll(true);
    expect([...store.getState().selected].sort()).toEqual(['/logs/injector.log', '/logs/system.log']);
    store.getState().toggle('/logs/system.log');
    expect([...store.getState().selected]).toEqual(['/logs/injector.log']);
    // back on the tab later: the same folder, listed anew, the selection kept
    const returning = store.getState().open('d1', 's1');
    await release('/logs');
    await returning;
    expect(store.getState().path).toBe('/logs');
    expect([...store.getState().selected]).toEqual(['/logs/injector.log']);
  });

  it('drops the answer of a folder the user already left', async () => {
    const { bridge, release } = deviceFolders(tree);
    const store = createFilesStore(bridge);
    const opening = store.getState().open('d1', 's1');
    await release('/');
    await opening;
    const slow = store.getState().browse('/logs');
    const fast = store.getState().browse('/');
    await release('/');
    await fast;
    await release('/logs');
    await slow;
    expect(store.getState().path).toBe('/');
    expect(store.getState().entries?.map((e) => e.path)).toEqual(['/config', '/logs']);
  });

  it('says why a folder could not be listed, and keeps the selection on a reload', async () => {
    const { bridge, release } = deviceFolders(tree);
    const store = createFilesStore(bridge);
    const opening = store.getState().open('d1', 's1');
    await release('/');
    await opening;
    const missing = store.getState().browse('/service');
    await release('/service');
    await missing;
    expect(store.getState().error).toMatch(/^The file is not there/);
    const back = store.getState().browse('/logs');
    await release('/logs');
    await back;
    store.getState().toggle('/logs/system.log');
    const again = store.getState().reload();
    await release('/logs');
    await again;
    expect([...store.getState().selected]).toEqual(['/logs/system.log']);
  });
});
